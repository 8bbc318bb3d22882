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
