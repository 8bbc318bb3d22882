"""The stage table: the pipeline's order, which stages a run skips, names of stage runs."""

import importlib

import pytest

from rtt.config import load_config
from rtt.runs import resume_command, round_stages
from rtt.stages import STAGE_NAMES, STAGES, get_stage, stage_name


def test_order_and_functions():
    assert STAGE_NAMES == ("rubrics", "rollouts", "judge", "discriminator", "grpo", "eval")
    for stage in STAGES:  # each names a function `run_<something>` of its stage module, taking a StageContext
        module, name = stage.function.split(":")
        assert module.endswith(".stage") and stage.run is getattr(importlib.import_module(module), name)


def test_a_run_without_discriminator_relevance_skips_what_only_feeds_it():
    assert round_stages(load_config("smoke", ["grpo.relevance=discriminator"])) == STAGE_NAMES[1:]
    assert round_stages(load_config("smoke", ["grpo.relevance=gold"])) == ("grpo", "eval")
    assert round_stages(load_config("smoke", ["grpo.token_weight=0"])) == ("grpo", "eval")


def test_names_of_stage_runs_and_resume_commands():
    names = (stage_name("rubrics", 0), stage_name("judge", 2), stage_name("eval", -1))
    assert names == ("rubrics", "judge-r2", "eval-r-1")
    rubrics = resume_command("smoke", ["seed=1"], "r1", "rubrics")
    assert rubrics == "rtt run rubrics --config smoke --set seed=1 --run-id r1"  # rubrics runs once: no --round
    assert resume_command("smoke", [], "r1", "grpo", 3).endswith("--run-id r1 --round 3")
    with pytest.raises(ValueError, match="unknown stage 'judges'; stages: "):
        get_stage("judges")
