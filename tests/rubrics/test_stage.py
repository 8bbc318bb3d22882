"""The rubrics stage (`rtt.rubrics.stage`) on generated prompts; imported files are tested with
their importers (tests/importers)."""

from __future__ import annotations

from rtt import testbed
from rtt.config import load_config
from rtt.data.items import load_prompts
from rtt.generator.builtin import generate_prompts
from rtt.rubrics.stage import run_rubrics, source_prompts
from rtt.stage_context import StageContext
from rtt.tracking import Tracker


def test_stage_builtin_unchanged(tmp_path, store):
    cfg = load_config("smoke", [f"data_dir={tmp_path / 'data'}"])
    summary = run_rubrics(StageContext(cfg, store, Tracker(), "b-1"))
    assert summary["source"] == "builtin" and "skipped_items" not in summary
    assert summary["prompts_train"] + summary["prompts_eval"] == cfg.rubrics.n_prompts
    assert {p["source"] for p in load_prompts(store, "b-1")} == {"builtin"}


def test_generated_constraints_become_rule_items():
    for preset, generated in (
        ("smoke", generate_prompts(12, seed=0)),
        ("testbed", testbed.generate_prompts(64, seed=0)),
    ):
        rubrics = load_config(preset).rubrics
        prompts, report = source_prompts(rubrics, seed=0)
        assert report == {} and [p["prompt_id"] for p in prompts] == [p["prompt_id"] for p in generated]
        for prompt, given in zip(prompts, generated):
            assert prompt["items"] == [
                {
                    "text": c["text"],
                    "weight": 1.0,
                    "kind": "rule",
                    "checker": c["instruction_id"],
                    "kwargs": c["kwargs"],
                    "pitfall": False,
                    "category": None,
                    "points": None,
                }
                for c in given["constraints"]
            ]
