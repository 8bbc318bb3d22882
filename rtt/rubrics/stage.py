"""Rubrics stage: write the run's prompts (train/eval split) and one rubric row per item.

Prompts come from the built-in generator or are imported from a dataset file
(`rubrics.source`, see `rtt.rubrics.importers`). A file is read and validated whole before
anything is written, so a bad file leaves the store untouched.
"""

from __future__ import annotations

import json

from rtt.config import Config, RubricsConfig
from rtt.data.store import Store, stable_id
from rtt.rubrics.builtin import generate_prompts, split_prompts
from rtt.rubrics.importers import read_ifeval_jsonl, read_verl_parquet
from rtt.tracking import Tracker

READERS = {"ifeval_jsonl": read_ifeval_jsonl, "verl_parquet": read_verl_parquet}


def source_prompts(rubrics: RubricsConfig, seed: int) -> tuple[list[dict], dict]:
    """(prompts, what the import reports: empty for builtin)."""
    if rubrics.source == "builtin":
        return generate_prompts(rubrics.n_prompts, seed=seed, max_constraints=rubrics.max_items,
                                kinds=rubrics.kinds), {}
    imported = READERS[rubrics.source](rubrics.path, rubrics.unknown_ids)
    report = {"dataset": rubrics.path, "prompts_in_file": len(imported), "skipped_items": imported.skipped_items,
              "skipped_prompts": imported.skipped_prompts, "skipped_ids": imported.skipped_ids,
              "system_messages_dropped": imported.system_dropped}
    return list(imported[: rubrics.n_prompts] if rubrics.n_prompts else imported), report


def split(prompts: list[dict], eval_fraction: float, seed: int) -> tuple[list[dict], list[dict], str]:
    """(train, eval, where the split came from): the file's, if it names both, else eval_fraction's."""
    if {p.get("split") for p in prompts} == {"train", "eval"}:
        return [p for p in prompts if p["split"] == "train"], [p for p in prompts if p["split"] == "eval"], "file"
    return *split_prompts(prompts, eval_fraction, seed=seed), "eval_fraction"


def run_rubrics(cfg: Config, store: Store, tracker: Tracker, run_id: str) -> dict:
    prompts_in, report = source_prompts(cfg.rubrics, cfg.seed)
    train, heldout, split_from = split(prompts_in, cfg.rubrics.eval_fraction, cfg.seed)
    prompts, items = [], []
    for split_name, group in (("train", train), ("eval", heldout)):
        for p in group:
            prompts.append({"run_id": run_id, "prompt_id": p["prompt_id"], "split": split_name,
                            "source": p.get("source", "builtin"), "task": p["task"], "prompt": p["prompt"]})
            for index, c in enumerate(p["constraints"]):
                items.append({
                    "run_id": run_id, "item_id": stable_id(run_id, p["prompt_id"], index, 0),
                    "prompt_id": p["prompt_id"], "item_index": index, "version": 0, "text": c["text"],
                    "weight": 1.0, "kind": "rule", "checker": c["instruction_id"],
                    "checker_kwargs": json.dumps(c["kwargs"], sort_keys=True),
                })
    store.write("prompts", prompts, run_id, "prompts")
    store.write("rubrics", items, run_id, "v0")
    summary = {"source": cfg.rubrics.source, "prompts_train": len(train), "prompts_eval": len(heldout),
               "items": len(items), "items_per_prompt": round(len(items) / max(len(prompts), 1), 2)}
    if report:
        summary |= {"split_from": split_from, **report}
    tracker.log_metrics({k: v for k, v in summary.items() if isinstance(v, (int, float))})
    return summary
