import pytest

from rtt.data.items import RubricItem
from rtt.judge.llm import batch_messages, item_messages, json_object, parse_batch, parse_item, verdict_of, yes_no


def item(text="Mentions the ocean", pitfall=False):
    return RubricItem("i1", "p1", 0, text, 1.0, "llm", None, {}, pitfall)


@pytest.mark.parametrize(
    ("answer", "met"),
    [
        ("YES", True),
        ("no", False),
        ("Yes.", True),
        ("**NO**", False),
        ("Answer: yes", True),
        ("NO. It does not say yes to the plan.", False),
        ("The verdict: YES, not NO", None),
        ("", None),
        ("I'm sorry, but I can't help with that.", None),
        ("The answer depends on many factors.", None),
        ("I don't know", None),
        ("yesterday", None),
        ("nobody", None),
    ],
)
def test_yes_no_only_when_unambiguous(answer, met):
    assert yes_no(answer) is met


def test_json_object_fenced_embedded_or_broken():
    assert json_object('```json\n{"verdict": "YES"}\n```') == {"verdict": "YES"}
    assert json_object('Sure! {"verdict": "NO", "quotes": ["x"]} Hope that helps.') == {
        "verdict": "NO",
        "quotes": ["x"],
    }
    assert json_object('{"verdict": "YES"') is None and json_object("[1, 2]") is None


def test_parse_item_plain_and_with_quotes():
    assert parse_item("YES", quotes=False) == (True, [])
    assert parse_item('{"verdict": "NO", "quotes": ["the ocean", 3]}', quotes=True) == (False, ["the ocean"])
    assert parse_item('{"verdict": "maybe"}', quotes=True) == (None, [])
    assert parse_item("YES", quotes=True) == (True, [])  # a bare word is still clear
    assert parse_item('{"quotes": ["a"]', quotes=True) == (None, [])  # broken JSON: both words absent


def test_parse_batch_maps_ids_and_never_guesses():
    answer = (
        '{"verdicts": [{"id": 2, "verdict": "NO"}, {"id": 1, "verdict": "YES", "quotes": ["q"]}, '
        '{"id": 9, "verdict": "YES"}]}'
    )
    assert parse_batch(answer, 3) == [(True, ["q"]), (False, []), (None, [])]  # id 3 missing, id 9 out of range
    twice = '{"verdicts": [{"id": 1, "verdict": "YES"}, {"id": 1, "verdict": "NO"}]}'
    assert parse_batch(twice, 1) == [(None, [])]  # answered twice: ambiguous
    assert parse_batch("YES", 2) == [(None, []), (None, [])]
    assert parse_batch('{"verdicts": [{"id": true, "verdict": "YES"}]}', 1) == [(None, [])]


def test_pitfalls_flip_the_verdict():
    assert [verdict_of(m, item()) for m in (True, False, None)] == [1, -1, 0]
    assert [verdict_of(m, item(pitfall=True)) for m in (True, False, None)] == [-1, 1, 0]


def test_messages_carry_the_request_response_and_items():
    one = item_messages("Write about the sea.", "The ocean is vast.", item(), quotes=False)
    assert one[0]["role"] == "system" and "YES or NO" in one[1]["content"]
    assert "Write about the sea." in one[1]["content"] and "The ocean is vast." in one[1]["content"]
    assert '"quotes"' in item_messages("q", "r", item(), quotes=True)[1]["content"]
    many = batch_messages("q", "r", [item("A"), item("B")], quotes=False)[1]["content"]
    assert "1. A\n2. B" in many and '"verdicts"' in many and "quotes" not in many
