"""The credit-assignment testbed (`rtt.testbed`, preset `testbed`): a word-level policy whose
starting pass rates are in the designed band, and prompts whose gold spans are the offending words."""

from __future__ import annotations

import pytest
import torch
from safetensors.torch import load_file
from transformers import GenerationConfig

from rtt import testbed
from rtt.checkpoints import resolve_policy
from rtt.data.items import RubricItem
from rtt.data.store import Store
from rtt.judge.rule import verdict_row
from rtt.models import SPECIAL_TOKENS, load_causal_lm, load_tokenizer
from rtt.rollout.sampler import sample
from rtt.runs import run_stage

T = 10  # the preset's max_new_tokens


@pytest.fixture(scope="module")
def policy_dir(tmp_path_factory) -> str:
    return resolve_policy("testbed", tmp_path_factory.mktemp("tb"))


@pytest.fixture(scope="module")
def tokenizer(policy_dir):
    return load_tokenizer(policy_dir)


@pytest.fixture(scope="module")
def starting_samples(policy_dir, tokenizer):
    """(prompts, samples): 8 responses to each of 8 prompts from the untrained policy."""
    model = load_causal_lm(policy_dir, torch.device("cpu"))
    prompts = testbed.generate_prompts(8, seed=0)
    return prompts, sample(model, tokenizer, [p["prompt"] for p in prompts], 8, T, seed=0)


def rule_items(prompt: dict) -> list[RubricItem]:
    return [
        RubricItem(f"i{k}", prompt["prompt_id"], k, c["text"], 1.0, "rule", c["instruction_id"], c["kwargs"])
        for k, c in enumerate(prompt["constraints"])
    ]


def test_every_word_is_one_token_and_decodes_back(tokenizer):
    text = " ".join(testbed.WORDS)
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    assert len(ids) == len(testbed.WORDS) == 24 and len(set(ids)) == 24
    assert tokenizer.decode(ids) == text
    assert len(tokenizer) == len(SPECIAL_TOKENS) + len(testbed.WORDS)
    # other words and punctuation read as the unknown token; no word hides inside another
    assert tokenizer("zebra, fox.", add_special_tokens=False)["input_ids"] == [
        tokenizer.unk_token_id,
        tokenizer.unk_token_id,
        tokenizer.convert_tokens_to_ids("fox"),
        tokenizer.unk_token_id,
    ]
    assert not [(a, b) for a in testbed.WORDS for b in testbed.WORDS if a != b and a in b]


def test_the_policy_builds_the_same_weights_every_time(policy_dir, tmp_path):
    again = testbed.build_testbed_model(tmp_path / "again")
    first, second = load_file(f"{policy_dir}/model.safetensors"), load_file(f"{again}/model.safetensors")
    assert first.keys() == second.keys()
    assert all(torch.equal(first[k], second[k]) for k in first)


def test_prompts_are_deterministic_by_seed():
    prompts = testbed.generate_prompts(20, seed=3)
    assert prompts == testbed.generate_prompts(20, seed=3)
    assert testbed.generate_prompts(5, seed=3) == prompts[:5]
    assert [p["prompt_id"] for p in prompts] != [p["prompt_id"] for p in testbed.generate_prompts(20, seed=4)]
    for p in prompts:
        words = [c["kwargs"]["forbidden_words"][0] for c in p["constraints"]]
        assert len(set(words)) == 3 and set(words) <= set(testbed.FORBIDDEN)
        assert all(c["instruction_id"] == "keywords:forbidden_words" for c in p["constraints"])
        assert all(f" {w}" in p["prompt"] for w in words)


def test_every_response_runs_to_max_new_tokens_without_special_tokens(starting_samples, tokenizer):
    _, samples = starting_samples
    specials = set(tokenizer.all_special_ids)
    assert all(len(s.token_ids) == T and not s.finished and not specials & set(s.token_ids) for s in samples)


def test_gold_spans_land_exactly_on_the_forbidden_words_tokens(starting_samples, tokenizer):
    prompts, samples = starting_samples
    failed = 0
    for s in samples:
        prompt = prompts[s.prompt_index]
        for item in rule_items(prompt):
            row = verdict_row("run", 0, 0, "r", item, s.text, s.offsets)
            word = item.kwargs["forbidden_words"][0]
            offending = [int(tokenizer.convert_ids_to_tokens(i) == word) for i in s.token_ids]
            assert row["token_labels"] == offending
            assert row["verdict"] == (-1 if any(offending) else 1)
            failed += row["verdict"] == -1
    assert failed > 0  # the check above saw failures


def test_the_starting_policy_passes_items_in_the_designed_band(starting_samples):
    # designed: an item passes (23/24)^10 = 0.65 of the time, a response all 3 items (21/24)^10 = 0.26
    prompts, samples = starting_samples
    verdicts = [
        [
            row["verdict"] > 0
            for row in (
                verdict_row("run", 0, 0, "r", item, s.text, s.offsets) for item in rule_items(prompts[s.prompt_index])
            )
        ]
        for s in samples
    ]
    item_rate = sum(map(sum, verdicts)) / sum(map(len, verdicts))
    all_rate = sum(map(all, verdicts)) / len(verdicts)
    assert 0.3 < item_rate < 0.9 and 0.05 < all_rate < 0.6, (item_rate, all_rate)


def test_a_one_round_run_of_the_preset(tmp_path):
    args = [
        f"data_dir={tmp_path / 'data'}",
        f"tracking_uri={tmp_path / 'mlflow'}",
        "grpo.steps=3",
        "rollouts.n_prompts=8",
        "rollouts.group_size=4",
        "discriminator.epochs=1",
    ]
    run_stage("rubrics", "testbed", args, "tb-1")
    for stage, round_ in (("eval", -1), ("rollouts", 0), ("judge", 0), ("discriminator", 0), ("grpo", 0), ("eval", 0)):
        run_stage(stage, "testbed", args, "tb-1", round_)
    store = Store(tmp_path / "data")
    rubrics = store.rows("rubrics", "tb-1")
    assert len(rubrics) == 64 * 3 and {r["checker"] for r in rubrics} == {"keywords:forbidden_words"}
    assert {r["author"] for r in rubrics} == {"testbed"}
    steps = store.rows("train_steps", "tb-1")
    assert sorted(r["step"] for r in steps) == [0, 1, 2]
    assert all(r["response_tokens"] == 8 * 8 * T for r in steps)
    scores = store.rows("token_scores", "tb-1")
    assert scores and {r["source"] for r in scores} == {"discriminator"}
    assert {r["round"] for r in store.rows("evals", "tb-1")} == {-1, 0}
    trained = GenerationConfig.from_pretrained(tmp_path / "data/runs/tb-1/policy/round_0")
    assert sorted(trained.suppress_tokens) == [0, 1, 2]  # the next round's policy never samples EOS either
