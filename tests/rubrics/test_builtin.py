import itertools

import pytest

from rtt.constraints import INSTRUCTION_IDS, check, describe
from rtt.rubrics.builtin import (
    CONFLICTING_IDS, END_PHRASES, FORBIDDEN_POOL, TOPICS, WEIGHTS, conflicts, generate_prompts, split_prompts,
)

SAMPLE_RESPONSE = (
    "<<A Note>>\nHere is a short note, with a comma.\n* first point\n- second point\n"
    "P.S. Thank you for reading."
)


def test_deterministic_by_seed_and_prefix_stable():
    assert generate_prompts(20, seed=3) == generate_prompts(20, seed=3)
    assert generate_prompts(20, seed=3)[:5] == generate_prompts(5, seed=3)
    assert generate_prompts(20, seed=3) != generate_prompts(20, seed=4)


def test_prompt_shape_and_texts():
    for p in generate_prompts(50, seed=0):
        assert set(p) == {"prompt_id", "prompt", "task", "constraints"}
        assert p["prompt"].startswith(p["task"])
        assert 1 <= len(p["constraints"]) <= 3
        for c in p["constraints"]:
            assert c["instruction_id"] in INSTRUCTION_IDS
            assert c["text"] == describe(c["instruction_id"], c["kwargs"])


def test_every_constraint_checks_on_a_sample_response():
    prompts = generate_prompts(300, seed=1, max_constraints=5)
    seen = set()
    for p in prompts:
        for c in p["constraints"]:
            verdict = check(c["instruction_id"], c["kwargs"], SAMPLE_RESPONSE, prompt=p["prompt"])
            assert isinstance(verdict.passed, bool)
            seen.add(c["instruction_id"])
    assert seen == set(WEIGHTS)  # every kind the generator is meant to draw shows up
    assert set(WEIGHTS) <= set(INSTRUCTION_IDS)


def test_no_conflicting_pairs_and_no_repeated_id():
    for p in generate_prompts(500, seed=2, max_constraints=6):
        ids = [c["instruction_id"] for c in p["constraints"]]
        assert len(ids) == len(set(ids))
        for a, b in itertools.combinations(p["constraints"], 2):
            assert frozenset({a["instruction_id"], b["instruction_id"]}) not in CONFLICTING_IDS
            assert not conflicts(a, b)


def test_conflicts_rule_set():
    lower = {"instruction_id": "change_case:english_lowercase", "kwargs": {}}
    upper = {"instruction_id": "change_case:english_capital", "kwargs": {}}
    quote = {"instruction_id": "startend:quotation", "kwargs": {}}
    end = {"instruction_id": "startend:end_checker", "kwargs": {"end_phrase": "Have a great day!"}}
    ps = {"instruction_id": "detectable_content:postscript", "kwargs": {"postscript_marker": "P.S."}}
    keyword = {"instruction_id": "keywords:existence", "kwargs": {"keywords": ["Sea"]}}
    forbid_sea = {"instruction_id": "keywords:forbidden_words", "kwargs": {"forbidden_words": ["sea"]}}
    forbid_great = {"instruction_id": "keywords:forbidden_words", "kwargs": {"forbidden_words": ["great"]}}
    forbid_very = {"instruction_id": "keywords:forbidden_words", "kwargs": {"forbidden_words": ["very"]}}
    for a, b in [(lower, upper), (quote, end), (quote, ps), (end, ps), (keyword, forbid_sea),
                 (end, forbid_great), (lower, lower)]:
        assert conflicts(a, b) and conflicts(b, a)
    for a, b in [(lower, end), (upper, ps), (keyword, forbid_very), (quote, keyword), (end, forbid_very)]:
        assert not conflicts(a, b)


def test_word_pools_never_collide():
    required = {w for words in TOPICS.values() for w in words}
    required |= {w.lower() for phrase in END_PHRASES for w in phrase.replace("?", " ").replace("!", " ")
                 .replace(".", " ").split()}
    assert not required & set(FORBIDDEN_POOL)
    assert not any("," in phrase for phrase in END_PHRASES)


def test_prompt_ids_unique_and_varied():
    prompts = generate_prompts(500, seed=0)
    assert len({p["prompt_id"] for p in prompts}) == 500
    assert not {p["prompt_id"] for p in prompts} & {p["prompt_id"] for p in generate_prompts(500, seed=1)}
    assert len({p["task"] for p in prompts}) > 100
    assert len({p["prompt"] for p in prompts}) > 450


def test_max_constraints_above_what_fits():
    prompts = generate_prompts(50, seed=0, max_constraints=20)
    assert max(len(p["constraints"]) for p in prompts) <= len(INSTRUCTION_IDS) - 3  # one case, one of quote/end/P.S.
    with pytest.raises(ValueError):
        generate_prompts(3, seed=0, max_constraints=0)


def test_split_is_a_deterministic_partition():
    prompts = generate_prompts(40, seed=0)
    train, held = split_prompts(prompts, 0.25, seed=7)
    assert len(held) == 10 and len(train) == 30
    ids = lambda ps: [p["prompt_id"] for p in ps]  # noqa: E731
    assert sorted(ids(train) + ids(held)) == sorted(ids(prompts))
    assert not set(ids(train)) & set(ids(held))
    assert ids(train) == [i for i in ids(prompts) if i in set(ids(train))]  # input order kept
    assert split_prompts(prompts, 0.25, seed=7) == (train, held)
    assert split_prompts(prompts, 0.25, seed=8) != (train, held)
    assert split_prompts(prompts, 0.0, seed=7) == (prompts, [])
    with pytest.raises(ValueError):
        split_prompts(prompts, 1.5, seed=7)
