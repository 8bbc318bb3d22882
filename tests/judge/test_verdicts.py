"""The judge over a real HTTP endpoint on loopback that injects faults (rtt.testing.llm_server)."""

import json
import re

import pytest

from rtt.config import JudgeConfig, LLMConfig
from rtt.data.items import RubricItem
from rtt.eval.stage import item_results
from rtt.judge.rule import EMPTY, NO_CHECKER
from rtt.judge.verdicts import Case, Judge
from rtt.testing.llm_server import Faults, LocalServer

WORDS = "the ocean is vast and blue while rivers run to the sea under a quiet sky".split()


def word_offsets(text: str) -> list[tuple[int, int]]:
    """One 'token' per word with its leading space, like a BPE tokenizer would split it."""
    return [(m.start(), m.end()) for m in re.finditer(r"\s*\S+", text)]


def llm_item(p: int, k: int, pitfall: bool = False) -> RubricItem:
    return RubricItem(f"p{p}-i{k}", f"p{p}", k, f"Criterion {k} of prompt {p}", 1.0, "llm", None, {}, pitfall)


def cases(n: int, items_per_case: int, rule: bool = False) -> list[Case]:
    out = []
    for p in range(n):
        text = " ".join(WORDS[(p + j) % len(WORDS)] for j in range(8 + p % 5))
        items = [llm_item(p, k) for k in range(items_per_case)]
        if rule:
            items.append(
                RubricItem(f"p{p}-rule", f"p{p}", items_per_case, "No commas.", 1.0, "rule", "punctuation:no_comma", {})
            )
        out.append(Case(f"r{p}", f"Write about water, prompt {p}.", text, word_offsets(text), items))
    return out


def judge_for(server: LocalServer, tmp_path, **settings) -> Judge:
    llm = {
        "base_url": server.base_url,
        "model": "judge-model",
        "max_concurrency": 8,
        "timeout_s": 0.2,
        "max_retries": 8,
        "backoff_s": 0.01,
        "max_backoff_s": 0.05,
        **settings.pop("llm", {}),
    }
    return Judge(JudgeConfig(llm=LLMConfig(**llm), **settings), tmp_path / "cache")


def test_200_pairs_with_30_percent_faults_all_get_a_row_and_the_cache_saves_every_call(tmp_path):
    faults = Faults(rate=0.3, seed=3, slow_s=0.4, retry_after_s=0.01)
    with LocalServer(faults=faults) as server:
        rows, answers = judge_for(server, tmp_path).judge("run", 0, -1, cases(50, 4))
        flat = [row for case_rows in rows for row in case_rows]
        assert len(flat) == 200 and len({r["verdict_id"] for r in flat}) == 200
        assert set(server.faults) == {
            "slow",
            "rate_limit",
            "server_error",
            "drop",
            "malformed_json",
            "refusal",
            "garbage",
        }
        assert server.max_in_flight <= 8
        unknown = [r for r in flat if r["verdict"] == 0]
        assert len(unknown) == server.faults["refusal"] + server.faults["garbage"] > 0  # the rest retried to an answer
        assert all(r["reason"].startswith("no clear YES/NO") for r in unknown)
        assert all(r["reason"] in ("YES", "NO") and r["judge"] == "llm:judge-model" for r in flat if r["verdict"] != 0)
        assert all(a.content is not None for a in answers) and len(answers) == 200

        requests = server.requests
        again, answers_again = judge_for(server, tmp_path).judge("run", 0, -1, cases(50, 4))
        assert server.requests == requests  # a second run costs no call
        assert [[r["verdict"] for r in rs] for rs in again] == [[r["verdict"] for r in rs] for rs in rows]
        assert all(a.cached for a in answers_again)


def test_a_request_that_keeps_failing_becomes_an_unknown_verdict_with_the_reason(tmp_path):
    with LocalServer(faults=Faults(rate=1.0, kinds=("server_error",))) as server:
        rows, answers = judge_for(server, tmp_path, llm={"max_retries": 1}).judge("run", 0, -1, cases(2, 1))
    assert [r[0]["verdict"] for r in rows] == [0, 0]
    assert all(r[0]["reason"].startswith("request failed: gave up after 2 attempts: HTTP 500") for r in rows)


def test_modes_route_items(tmp_path):
    with LocalServer() as server:
        rows, _ = judge_for(server, tmp_path, mode="auto").judge("run", 0, -1, cases(3, 2, rule=True))
        assert server.requests == 6  # the two LLM items of each case; the rule item never goes to the LLM
        assert [r["judge"] for r in rows[0]] == ["llm:judge-model", "llm:judge-model", "rule"]
        server.reset_counters()
        rows, _ = judge_for(server, tmp_path, mode="llm", llm={"cache": False}).judge(
            "run", 0, -1, cases(3, 2, rule=True)
        )
        assert server.requests == 9 and {r["judge"] for rs in rows for r in rs} == {"llm:judge-model"}
        server.reset_counters()
        rows, answers = judge_for(server, tmp_path, mode="rule").judge("run", 0, -1, cases(3, 2, rule=True))
        assert server.requests == 0 and answers == []
        assert [(r["verdict"], r["reason"]) for r in rows[0][:2]] == [(0, NO_CHECKER)] * 2
        assert rows[0][2]["verdict"] == 1


def quoting_answer(body: dict) -> str:
    """Met, quoting the response's second and third words and a phrase that is not in it."""
    user = body["messages"][-1]["content"]
    response = user.split("[Response]\n", 1)[1].split("\n\n[Criteri", 1)[0]
    words = response.split()
    return json.dumps({"verdict": "YES", "quotes": [" ".join(words[1:3]), "a purple unicorn"]})


def test_quotes_become_spans_and_token_labels_and_missing_ones_are_counted(tmp_path):
    with LocalServer(answer=quoting_answer) as server:
        [case] = cases(1, 1)
        rows, _ = judge_for(server, tmp_path, quotes=True).judge("run", 0, -1, [case])
    row = rows[0][0]
    assert row["verdict"] == 1 and row["quotes_dropped"] == 1
    assert [case.text[s["start"] : s["end"]] for s in row["spans"]] == ["ocean is"]
    assert row["token_labels"] == [0, 1, 1] + [0] * (len(case.offsets) - 3)


def test_pitfall_items_met_are_violations(tmp_path):
    with LocalServer(answer=lambda body: "YES") as server:
        [case] = cases(1, 0)
        case.items = [llm_item(0, 0), llm_item(0, 1, pitfall=True)]
        rows, _ = judge_for(server, tmp_path).judge("run", 0, -1, [case])
    assert [r["verdict"] for r in rows[0]] == [1, -1]


def batch_answer(body: dict) -> str:
    """Answers criteria 1..n-1 (odd YES, even NO) and leaves out the last one."""
    listed = re.findall(r"^(\d+)\. ", body["messages"][-1]["content"], flags=re.M)
    return (
        "```json\n"
        + json.dumps({"verdicts": [{"id": int(i), "verdict": "YES" if int(i) % 2 else "NO"} for i in listed[:-1]]})
        + "\n```"
    )


@pytest.mark.parametrize("n_items", [1, 4])
def test_batched_mode_makes_one_call_per_response(tmp_path, n_items):
    with LocalServer(answer=batch_answer) as server:
        rows, answers = judge_for(server, tmp_path, batch_items=True).judge("run", 0, -1, cases(5, n_items, rule=True))
        assert server.requests == len(answers) == 5
    for case_rows in rows:
        assert [r["verdict"] for r in case_rows[:n_items]] == [1, -1, 1, -1][: n_items - 1] + [0]  # the left-out item
        assert case_rows[n_items]["judge"] == "rule"


@pytest.mark.parametrize("mode, batch_items, requests", [("llm", False, 3), ("llm", True, 1), ("auto", False, 2)])
def test_an_empty_response_is_never_sent_to_the_llm_and_violates_every_item(tmp_path, mode, batch_items, requests):
    # three cases with items [llm, llm pitfall, rule no_comma]: "", "  \n" (EOS-only and whitespace,
    # offsets as the tiny tokenizer gives them) and one with words. Only the last goes to the LLM:
    # llm mode 3 requests (one per item) or 1 (batched); auto mode 2 (the rule item stays with the checker)
    [full] = cases(1, 2, rule=True)
    full.items[1] = llm_item(0, 1, pitfall=True)
    empty = Case("r-empty", full.prompt, "", [(0, 0)], full.items)
    blank = Case("r-blank", full.prompt, "  \n", [(0, 1), (1, 2), (2, 3), (3, 3)], full.items)
    with LocalServer(answer=lambda body: "NO") as server:
        judge = judge_for(server, tmp_path, mode=mode, batch_items=batch_items, llm={"cache": False})
        rows, answers = judge.judge("run", 0, -1, [empty, blank, full])
        assert server.requests == len(answers) == requests
        server.reset_counters()
        rows_alone, answers_alone = judge.judge("run", 0, -1, [empty, blank])
        assert server.requests == 0 and answers_alone == []
    for case, case_rows in zip([empty, blank], rows):
        assert [(r["verdict"], r["judge"], r["reason"]) for r in case_rows] == [(-1, "rule", EMPTY)] * 3
        assert all(r["spans"] == [{"start": 0, "end": len(case.text)}] for r in case_rows)
        assert all(r["token_labels"] == [1] * len(case.offsets) for r in case_rows)
    assert rows_alone == rows[:2]
    assert [r["judge"] for r in rows[2]][:2] == ["llm:judge-model"] * 2  # the non-empty case is graded as before
    # held-out eval grades with this judge (rtt.eval.stage.item_results): the empty answers satisfy nothing
    assert [[ok for _, ok in g] for g in item_results([empty, blank], rows[:2])] == [[False] * 3] * 2
