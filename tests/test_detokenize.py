"""Character offsets of generated tokens, on a real byte-level BPE tokenizer (trained in-process)."""

import pytest

from rtt.detokenize import decode_with_offsets, spans_to_token_labels

TRICKY = [
    "plain words here",
    " leading space, and trailing ",
    "multi-byte: héllo wörld 日本語 🙂 done",
    "merged punctuation!!!... (yes)?\n- bullet\n\n<<Title>>",
    "🙂",
    "",
]


@pytest.mark.parametrize("text", TRICKY)
def test_offsets_tile_the_text_exactly(tiny_tokenizer, text):
    ids = tiny_tokenizer(text, add_special_tokens=False)["input_ids"] + [tiny_tokenizer.eos_token_id]
    decoded, offsets = decode_with_offsets(tiny_tokenizer, ids)
    assert decoded == text == tiny_tokenizer.decode(ids, skip_special_tokens=True)
    assert len(offsets) == len(ids)
    assert offsets[-1][0] == offsets[-1][1] == len(text)  # EOS covers no characters
    position = 0
    for start, end in offsets:  # contiguous, in order, covering every character once
        assert start == position and end >= start
        position = end
    assert position == len(text)


def test_a_character_split_across_tokens_belongs_to_the_token_completing_it(tiny_tokenizer):
    ids = tiny_tokenizer("🙂", add_special_tokens=False)["input_ids"]
    assert len(ids) > 1  # four bytes, not merged by the tiny vocabulary
    _, offsets = decode_with_offsets(tiny_tokenizer, ids)
    assert offsets[-1] == (0, 1) and all(s == e for s, e in offsets[:-1])


def test_span_labels_mark_every_token_touching_a_span(tiny_tokenizer):
    text = "no, commas, here"
    ids = tiny_tokenizer(text, add_special_tokens=False)["input_ids"]
    decoded, offsets = decode_with_offsets(tiny_tokenizer, ids)
    spans = [(i, i + 1) for i, ch in enumerate(decoded) if ch == ","]
    labels = spans_to_token_labels(offsets, spans)
    marked = "".join(decoded[s:e] for (s, e), y in zip(offsets, labels) if y)
    assert marked.count(",") == 2
    for (s, e), y in zip(offsets, labels):
        assert y == int(any(s <= i < e for i, _ in spans))


def test_span_labels_hand_worked():
    offsets = [(0, 2), (2, 5), (5, 5), (5, 9)]
    assert spans_to_token_labels(offsets, [(1, 3)]) == [1, 1, 0, 0]
    assert spans_to_token_labels(offsets, [(5, 6)]) == [0, 0, 0, 1]  # the empty EOS span is never labelled
    assert spans_to_token_labels(offsets, []) == [0, 0, 0, 0]


@pytest.fixture(scope="module")
def smollm2():
    from rtt.models import smollm2_tokenizer

    return smollm2_tokenizer()


# The policy's real tokenizer (SmolLM2) on text with multi-byte characters split across tokens,
# a leading space merged into an emoji's token, merged punctuation, and spans at the very start and
# end. Its tokens, worked out by hand from tokenizer.tokenize() (index: piece -> characters):
#   0 'Ġh' -> " h" (0,2)   1 'Ã©' -> "é" (2,3)   2 'llo' (3,6)   3 'Ġæ' -> " " (6,7): the first byte
#   of 日 completes no character   4 'Ĺ' -> "" (7,7)   5 '¥' -> "日" (7,8)   6 'æľ¬' -> "本" (8,9)
#   7 'è' ""  8 'ª' ""  9 'ŀ' -> "語" (9,10)   10 'ĠðŁĻĤ' -> " 🙂" (10,12)   11 '!!!' (12,15)
#   12 '...' (15,18)   13 'Ġ(' (18,20)   14 'yes' (20,23)   15 ')?' (23,25)   16 'Ċ' (25,26)
#   17 '-' (26,27)   18 'Ġx' -> " x" (27,29)   19 <|im_end|> -> "" (29,29)
SMOLLM2_TEXT = " héllo 日本語 🙂!!!... (yes)?\n- x"


@pytest.mark.parametrize(
    ("span", "tokens"),
    [
        ((0, 1), [0]),  # the leading space, at the very start
        ((7, 8), [5]),  # 日: only the token that completes it, not the ones holding its first bytes
        ((7, 10), [5, 6, 9]),  # 日本語
        ((11, 12), [10]),  # the emoji, merged with the space before it
        ((13, 14), [11]),  # one "!" of the merged "!!!"
        ((24, 25), [15]),  # the "?" of ")?"
        ((28, 29), [18]),  # the very last character; the end-of-turn token is never labelled
        ((0, 29), [i for i in range(19) if i not in (4, 7, 8)]),  # everything: tokens with no characters stay 0
    ],
)
def test_char_spans_to_smollm2_tokens_hand_worked(smollm2, span, tokens):
    ids = smollm2(SMOLLM2_TEXT, add_special_tokens=False)["input_ids"] + [smollm2.convert_tokens_to_ids("<|im_end|>")]
    assert len(ids) == 20
    text, offsets = decode_with_offsets(smollm2, ids)
    assert text == SMOLLM2_TEXT
    assert offsets[:4] == [(0, 2), (2, 3), (3, 6), (6, 7)] and offsets[9:11] == [(9, 10), (10, 12)]
    assert offsets[-2:] == [(27, 29), (29, 29)]
    labels = spans_to_token_labels(offsets, [span])
    assert [i for i, y in enumerate(labels) if y] == tokens


@pytest.mark.parametrize("text", TRICKY)
def test_smollm2_offsets_tile_the_text_exactly(smollm2, text):
    ids = smollm2(text, add_special_tokens=False)["input_ids"] + [smollm2.eos_token_id]
    decoded, offsets = decode_with_offsets(smollm2, ids)
    assert decoded == text == smollm2.decode(ids, skip_special_tokens=True)
    assert offsets[0][0] == 0 and offsets[-1] == (len(text), len(text))
    assert [s for s, _ in offsets[1:]] == [e for _, e in offsets[:-1]]  # contiguous, in order
