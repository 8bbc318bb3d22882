"""Rubrics stage: write the run's prompts (train/eval split) and one rubric row per item."""

from __future__ import annotations

import json

from rtt.config import Config
from rtt.data.store import Store, stable_id
from rtt.rubrics.builtin import generate_prompts, split_prompts
from rtt.tracking import Tracker


def run_rubrics(cfg: Config, store: Store, tracker: Tracker, run_id: str) -> dict:
    generated = generate_prompts(cfg.rubrics.n_prompts, seed=cfg.seed, max_constraints=cfg.rubrics.max_items)
    train, heldout = split_prompts(generated, cfg.rubrics.eval_fraction, seed=cfg.seed)
    prompts, items = [], []
    for split, group in (("train", train), ("eval", heldout)):
        for p in group:
            prompts.append({"run_id": run_id, "prompt_id": p["prompt_id"], "split": split, "source": "builtin",
                            "task": p["task"], "prompt": p["prompt"]})
            for index, c in enumerate(p["constraints"]):
                items.append({
                    "run_id": run_id, "item_id": stable_id(run_id, p["prompt_id"], index, 0),
                    "prompt_id": p["prompt_id"], "item_index": index, "version": 0, "text": c["text"],
                    "weight": 1.0, "kind": "rule", "checker": c["instruction_id"],
                    "checker_kwargs": json.dumps(c["kwargs"], sort_keys=True),
                })
    store.write("prompts", prompts, run_id, "prompts")
    store.write("rubrics", items, run_id, "v0")
    summary = {"prompts_train": len(train), "prompts_eval": len(heldout), "items": len(items),
               "items_per_prompt": round(len(items) / max(len(prompts), 1), 2)}
    tracker.log_metrics(summary)
    return summary
