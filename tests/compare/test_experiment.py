"""Planning an experiment: arms, seeds, run ids, overrides; bad input fails before anything runs."""

from __future__ import annotations

import pytest

from rtt.compare.experiment import BUILTIN_ARMS, plan_experiment
from rtt.config import load_config


def test_plan_runs_every_arm_and_seed_on_the_same_prompts():
    plan = plan_experiment(
        "smoke", ["grpo.steps=1"], ["rtt-gold", "grpo-csr"], seeds=2, first_seed=5, experiment_id="e1"
    )
    assert [(r.arm, r.seed, r.run_id) for r in plan.runs] == [
        ("rtt-gold", 5, "e1-rtt-gold-s5"),
        ("rtt-gold", 6, "e1-rtt-gold-s6"),
        ("grpo-csr", 5, "e1-grpo-csr-s5"),
        ("grpo-csr", 6, "e1-grpo-csr-s6"),
    ]
    configs = [load_config("smoke", r.overrides) for r in plan.runs]
    assert {c.rubrics.seed for c in configs} == {5}  # same prompts for every run
    assert [c.seed for c in configs] == [5, 6, 5, 6]
    assert all(c.grpo.steps == 1 for c in configs)
    assert configs[0].grpo.relevance == "gold" and configs[0].grpo.token_weight == 0.5
    assert configs[2].grpo.token_weight == 0 and configs[2].grpo.reward_mode == "satisfaction_rate"


def test_all_builtin_arms_by_default_and_config_arms_added():
    assert list(plan_experiment("smoke").arms) == list(BUILTIN_ARMS)
    plan = plan_experiment("smoke", ["compare.arms={rtt-l1: {grpo.token_weight: 1.0}}"], ["rtt-l1"])
    assert load_config("smoke", plan.runs[0].overrides).grpo.token_weight == 1.0


@pytest.mark.parametrize(
    "arms, overrides, message",
    [
        (["nope"], [], "unknown arm"),
        (["rtt", "rtt"], [], "named twice"),
        (["bad"], ["compare.arms={bad: {grpo.no_such_key: 1}}"], "no_such_key"),
    ],
)
def test_bad_arms_fail_before_anything_runs(arms, overrides, message):
    with pytest.raises(ValueError, match=message):
        plan_experiment("smoke", overrides, arms)


def test_restricted_checkers_draw_only_those_ids():
    from rtt.generator.builtin import generate_prompts

    ids = ["punctuation:no_comma", "change_case:english_lowercase"]
    prompts = generate_prompts(20, seed=0, max_constraints=2, only=ids)
    assert {c["instruction_id"] for p in prompts for c in p["constraints"]} <= set(ids)
    assert not {p["prompt_id"] for p in prompts} & {
        p["prompt_id"] for p in generate_prompts(20, seed=0, max_constraints=2)
    }
    with pytest.raises(ValueError, match="not in the"):
        generate_prompts(1, seed=0, only=["no:such_id"])
