"""Rubrics stage: write the run's prompts (train/eval split) and one rubric row per item.

Prompts come from the built-in generator (`rtt.generator`) or the credit-assignment testbed's
(`rtt.testbed`), or are imported from a dataset file (`rubrics.source`, `rtt.importers`): verifiable
constraints (IFEval, verl) or LLM-graded rubrics with weights and pitfalls (RaR, RubricHub,
HealthBench). A file is read and validated whole before anything is written, so a bad file leaves
the store untouched.
"""

from __future__ import annotations

import json
import logging

from rtt import importers, testbed
from rtt.config import Config, RubricsConfig
from rtt.data.items import RubricItem, conversation, conversation_text, load_rubrics
from rtt.data.partitions import PROMPTS, RUBRICS, llm_calls_part
from rtt.data.store import stable_id, state_root
from rtt.generator.builtin import generate_prompts, split_prompts
from rtt.importers.items import llm_item, rule_item
from rtt.judge.verdicts import Judge
from rtt.llm.cache import answer_cache
from rtt.llm.calls import call_rows
from rtt.llm.client import ChatClient
from rtt.rubrics.writer import RubricWriter, trigger_json
from rtt.stage_context import StageContext
from rtt.tracking import Tracker

log = logging.getLogger(__name__)


def source_prompts(rubrics: RubricsConfig, seed: int) -> tuple[list[dict], dict]:
    """(prompts, each with its rubric `items`; what the import reports: empty for builtin and testbed)."""
    if rubrics.source == "builtin":
        generated = generate_prompts(
            rubrics.n_prompts, seed=seed, max_constraints=rubrics.max_items, kinds=rubrics.kinds, only=rubrics.checkers
        )
    elif rubrics.source == "testbed":
        generated = testbed.generate_prompts(rubrics.n_prompts, seed=seed, k=rubrics.max_items)
    else:
        imported = importers.read(rubrics.source, rubrics.path, rubrics.n_prompts, rubrics.unknown_ids)
        return list(imported), imported.report()
    return [{**p, "items": [rule_item(c) for c in p["constraints"]]} for p in generated], {}


def split(prompts: list[dict], eval_fraction: float, seed: int) -> tuple[list[dict], list[dict], str]:
    """(train, eval, where the split came from): the file's, if it names both, else eval_fraction's."""
    if {p.get("split") for p in prompts} == {"train", "eval"}:
        return [p for p in prompts if p["split"] == "train"], [p for p in prompts if p["split"] == "eval"], "file"
    return *split_prompts(prompts, eval_fraction, seed=seed), "eval_fraction"


def prompt_row(run_id: str, p: dict, split_name: str) -> dict:
    messages = p.get("messages")
    return {
        "run_id": run_id,
        "prompt_id": p["prompt_id"],
        "split": split_name,
        "source": p.get("source", "builtin"),
        "task": p["task"],
        "prompt": p["prompt"],
        "messages": json.dumps(messages) if messages and len(messages) > 1 else None,
    }


def item_row(
    run_id: str,
    prompt_id: str,
    index: int,
    version: int,
    item: dict,
    author: str,
    parent_version: int | None = None,
    trigger: str | None = None,
) -> dict:
    return {
        "run_id": run_id,
        "item_id": stable_id(run_id, prompt_id, index, version),
        "prompt_id": prompt_id,
        "item_index": index,
        "version": version,
        "text": item["text"],
        "weight": float(item["weight"]),
        "kind": item["kind"],
        "checker": item["checker"],
        "checker_kwargs": json.dumps(item["kwargs"], sort_keys=True),
        "pitfall": item["pitfall"],
        "category": item["category"],
        "points": item["points"],
        "author": author,
        "parent_version": parent_version,
        "trigger": trigger,
    }


def written_rows(
    cfg: Config, run_id: str, prompts: list[dict], fixed: dict[str, list[dict]], source_author: str, tracker: Tracker
) -> tuple[list[dict], list[dict], dict]:
    """(rubric rows of every version, llm_calls rows, summary) of the LLM-written rubrics."""
    r = cfg.rubrics
    cache = answer_cache(r.llm.cache, state_root(cfg.data_dir) / "cache")
    writer = RubricWriter(
        ChatClient(r.llm, cache, cfg.seed),
        Judge.for_run(cfg),
        r.max_written_items,
        r.candidates,
        r.candidate_temperature,
    )
    requests = {p["prompt_id"]: conversation_text(p) for p in prompts}
    drafts = writer.draft(requests)
    history = {pid: [d] for pid, d in drafts.items() if d.criteria}
    if r.refine_rounds:
        rules = {
            pid: [
                RubricItem(
                    f"{pid}-f{i}",
                    pid,
                    i,
                    it["text"],
                    float(it["weight"]),
                    it["kind"],
                    it["checker"],
                    it["kwargs"],
                    it["pitfall"],
                )
                for i, it in enumerate(fixed[pid])
            ]
            for pid in requests
        }
        pools = writer.candidates({p["prompt_id"]: conversation(p) for p in prompts if p["prompt_id"] in history})
        for round_ in range(r.refine_rounds):
            drafts = writer.refine(run_id, requests, rules, drafts, pools, round_)
            for pid, d in drafts.items():
                if d.criteria and d.version > history[pid][-1].version:
                    history[pid].append(d)
            tracker.log_metrics({"rubric_versions": sum(len(h) for h in history.values())}, step=round_ + 1)
    author = f"llm:{r.llm.model}"
    rows = []
    for pid, versions in history.items():
        for d in versions:
            its = [(item, source_author) for item in fixed[pid]]
            its += [(llm_item(c["text"], c["weight"], False, None, None), author) for c in d.criteria]
            rows += [
                item_row(run_id, pid, i, d.version, item, who, d.parent_version, trigger_json(d))
                for i, (item, who) in enumerate(its)
            ]
    calls = call_rows(run_id, "rubrics", -1, -1, r.llm.model, writer.answers) + call_rows(
        run_id, "rubrics", -1, -1, cfg.judge.llm.model, writer.judge_answers
    )
    failures = [f for d in drafts.values() for f in d.failures]
    summary = {
        "written": len(history),
        "write_failures": len(failures),
        "refined": sum(len(h) > 1 for h in history.values()),
        "rubric_versions": sum(len(h) for h in history.values()),
    }
    for failure in failures[:5]:
        log.warning("rubric writer: %s", failure)
    return rows, calls, summary


def run_rubrics(ctx: StageContext) -> dict:
    cfg, store, tracker, run_id = ctx.cfg, ctx.store, ctx.tracker, ctx.run_id
    seed = cfg.seed if cfg.rubrics.seed is None else cfg.rubrics.seed
    prompts_in, report = source_prompts(cfg.rubrics, seed)
    train, heldout, split_from = split(prompts_in, cfg.rubrics.eval_fraction, seed)
    prompts = [prompt_row(run_id, p, name) for name, group in (("train", train), ("eval", heldout)) for p in group]
    fixed = {p["prompt_id"]: p["items"] for p in prompts_in}
    source_author = (
        cfg.rubrics.source if cfg.rubrics.source in ("builtin", "testbed") else f"import:{cfg.rubrics.source}"
    )
    extra: dict = {}
    if cfg.rubrics.write:
        rows, calls, extra = written_rows(cfg, run_id, prompts, fixed, source_author, tracker)
        written = {r["prompt_id"] for r in rows}
        without = [p for p in prompts if p["prompt_id"] not in written and not fixed[p["prompt_id"]]]
        if without:  # nothing written and nothing given: these prompts cannot be graded
            prompts = [p for p in prompts if p not in without]
            extra["dropped_prompts"] = len(without)
        rows += [
            item_row(run_id, pid, i, 0, item, source_author)
            for pid, its in fixed.items()
            if pid not in written
            for i, item in enumerate(its)
        ]
        if calls:
            store.write("llm_calls", calls, run_id, llm_calls_part("rubrics", -1))
    else:
        rows = [
            item_row(run_id, pid, i, 0, item, source_author) for pid, its in fixed.items() for i, item in enumerate(its)
        ]
    store.write("prompts", prompts, run_id, PROMPTS)
    store.write("rubrics", rows, run_id, RUBRICS)
    latest = load_rubrics(store, run_id)
    n_items = sum(map(len, latest.values()))
    summary = {
        "source": cfg.rubrics.source,
        "prompts_train": sum(p["split"] == "train" for p in prompts),
        "prompts_eval": sum(p["split"] == "eval" for p in prompts),
        "items": n_items,
        "items_per_prompt": round(n_items / max(len(prompts), 1), 2),
        **extra,
    }
    if report:
        summary |= {"split_from": split_from, **report}
    tracker.log_metrics({k: v for k, v in summary.items() if isinstance(v, (int, float))})
    return summary
