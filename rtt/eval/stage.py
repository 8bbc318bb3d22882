"""Eval stage: greedy answers to held-out prompts, graded item by item (METHOD.md section 9).

Round -1 evaluates the starting policy, round r the policy that round r produced. Metrics:
prompt-level accuracy (all items satisfied), item-level accuracy, and item accuracy per checker.
Items are graded by the training judge (`judge.mode`); an unknown verdict counts as not satisfied.
With `eval.second_judge`, a second LLM judge grades the same answers (`heldout_rubrics_judge2`).
With `eval.ifeval`, the checkpoint also answers IFEval's 541 prompts, graded by the official
checker (`rtt.eval.ifeval`); those rows have benchmark `ifeval`. Every generation is stored in
`generations` (IFEval's `key` in `prompt_key`) so it can be read or re-graded with SQL.
"""

from __future__ import annotations

import time

from rtt.checkpoints import evaluated_policy
from rtt.config import Config, JudgeConfig
from rtt.data.items import (
    conversation,
    conversation_text,
    load_prompts,
    load_rubrics,
)
from rtt.data.partitions import llm_calls_part, round_part
from rtt.eval.ifeval import BENCHMARK as IFEVAL
from rtt.eval.ifeval import grade, ifeval_metrics, load_ifeval
from rtt.judge.verdicts import Case, Judge
from rtt.llm.calls import call_rows
from rtt.models import load_causal_lm, load_tokenizer, resolve_device
from rtt.rollout.engine import engine_for
from rtt.stage_context import StageContext, global_step
from rtt.tracking import registered_model_name

BENCHMARK = "heldout_rubrics"
SECOND_JUDGE = "heldout_rubrics_judge2"


def accuracy_metrics(graded: list[list[tuple[str, bool]]]) -> dict[str, tuple[float, int]]:
    """graded[prompt] = [(item kind, passed)] -> metric -> (value, n)."""
    items = [x for g in graded for x in g]
    out = {
        "prompt_accuracy": (sum(all(p for _, p in g) for g in graded) / max(len(graded), 1), len(graded)),
        "item_accuracy": (sum(p for _, p in items) / max(len(items), 1), len(items)),
    }
    for kind in sorted({k for k, _ in items}):
        hits = [p for k, p in items if k == kind]
        out[f"item_accuracy/{kind}"] = (sum(hits) / len(hits), len(hits))
    return out


def item_results(cases: list[Case], verdicts: list[list[dict]]) -> list[list[tuple[str, bool]]]:
    """Per case, (item kind, satisfied) per item; an unknown verdict counts as not satisfied."""
    return [
        [(item.label, row["verdict"] > 0) for item, row in zip(case.items, rows)] for case, rows in zip(cases, verdicts)
    ]


def run_eval(ctx: StageContext) -> dict:
    cfg, store, tracker, run_id, round_ = ctx.cfg, ctx.store, ctx.tracker, ctx.run_id, ctx.round
    checkpoint = evaluated_policy(cfg, store, run_id, round_)
    device = resolve_device(cfg.model.device)
    tokenizer = load_tokenizer(checkpoint)
    model = load_causal_lm(checkpoint, device, cfg.model.dtype)
    prompts = load_prompts(store, run_id, "eval")
    if cfg.eval.max_prompts:
        prompts = prompts[: cfg.eval.max_prompts]
    rubrics = load_rubrics(store, run_id)
    engine = engine_for(cfg, checkpoint, cfg.eval.batch_size)
    start = time.perf_counter()
    samples = engine.sample(
        model,
        tokenizer,
        [conversation(p) for p in prompts],
        1,
        cfg.eval.max_new_tokens,
        greedy=True,
        desc=f"eval r{round_}",
        logprobs=False,
    )
    cases = [
        Case(
            f"eval-{prompts[s.prompt_index]['prompt_id']}",
            conversation_text(prompts[s.prompt_index]),
            s.text,
            s.offsets,
            rubrics[prompts[s.prompt_index]["prompt_id"]],
        )
        for s in samples
    ]
    verdicts, answers = Judge.for_run(cfg).judge(run_id, round_, -1, cases, f"eval r{round_} judge")
    graded = item_results(cases, verdicts)
    generations = [
        {
            "run_id": run_id,
            "round": round_,
            "checkpoint": checkpoint,
            "benchmark": BENCHMARK,
            "prompt_id": prompts[s.prompt_index]["prompt_id"],
            "prompt_key": None,
            "response": s.text,
            "num_tokens": len(s.token_ids),
            "items_passed": sum(p for _, p in results),
            "items_total": len(results),
        }
        for s, results in zip(samples, graded)
    ]
    metrics = {BENCHMARK: accuracy_metrics(graded)}
    calls = call_rows(run_id, "eval", round_, -1, cfg.judge.llm.model, answers)
    if cfg.eval.second_judge:
        second = JudgeConfig(mode="llm", batch_items=cfg.judge.batch_items, llm=cfg.eval.second_judge_llm)
        verdicts2, answers2 = Judge(second, ctx.cache_dir, cfg.seed).judge(
            run_id, round_, -1, cases, f"eval r{round_} second judge"
        )
        metrics[SECOND_JUDGE] = accuracy_metrics(item_results(cases, verdicts2))
        calls += call_rows(run_id, "eval", round_, -1, cfg.eval.second_judge_llm.model, answers2)
    if calls:
        store.write("llm_calls", calls, run_id, llm_calls_part("eval", round_))
    timings = {}
    if cfg.eval.ifeval:
        ifeval_start = time.perf_counter()
        metrics[IFEVAL], ifeval_generations = run_ifeval(cfg, engine, model, tokenizer, run_id, round_, checkpoint)
        generations += ifeval_generations
        timings["ifeval_seconds"] = round(time.perf_counter() - ifeval_start, 3)
    store.write(
        "evals",
        [
            {
                "run_id": run_id,
                "round": round_,
                "checkpoint": checkpoint,
                "benchmark": benchmark,
                "metric": name,
                "value": value,
                "n": n,
            }
            for benchmark, values in metrics.items()
            for name, (value, n) in values.items()
        ],
        run_id,
        round_part(round_),
    )
    store.write("generations", generations, run_id, round_part(round_))
    tracker.log_metrics(
        {
            f"{'eval' if b == BENCHMARK else b}_{k.replace('/', '_')}": v
            for b, values in metrics.items()
            for k, (v, _) in values.items()
        }
        | timings,
        step=global_step(cfg, round_ + 1, 0),  # the GRPO steps its policy had (0: the base)
    )
    if cfg.registry and round_ >= 0:  # round -1 is the starting policy, not this run's
        tracker.register_model(
            registered_model_name(run_id, "policy"),
            checkpoint,
            run_id,
            round_,
            "heldout_item_accuracy",
            *metrics[BENCHMARK]["item_accuracy"],
            campaign=cfg.campaign,
        )
    return {
        "checkpoint": checkpoint,
        "prompts": len(prompts),
        "seconds": round(time.perf_counter() - start, 1),
        **timings,
        **{k: round(v, 4) for k, (v, _) in metrics[BENCHMARK].items() if "/" not in k},
        **{
            f"{b}_{k}": round(v, 4)
            for b in (IFEVAL, SECOND_JUDGE)
            for k, (v, _) in metrics.get(b, {}).items()
            if "/" not in k
        },
    }


def run_ifeval(
    cfg: Config, engine, model, tokenizer, run_id: str, round_: int, checkpoint: str
) -> tuple[dict, list[dict]]:
    """IFEval metrics and generations of one checkpoint (rtt.eval.ifeval), sampled by `engine`."""
    examples = load_ifeval(cfg.eval.ifeval_max_prompts)
    samples = engine.sample(
        model,
        tokenizer,
        [e["prompt"] for e in examples],
        1,
        cfg.eval.ifeval_max_new_tokens,
        greedy=True,
        desc=f"ifeval r{round_}",
        logprobs=False,
    )
    graded = grade(examples, [s.text for s in samples])
    generations = [
        {
            "run_id": run_id,
            "round": round_,
            "checkpoint": checkpoint,
            "benchmark": IFEVAL,
            "prompt_id": f"ifeval-{e['key']}",
            "prompt_key": e["key"],
            "response": s.text,
            "num_tokens": len(s.token_ids),
            "items_passed": sum(g["strict"]),
            "items_total": len(g["strict"]),
        }
        for e, s, g in zip(examples, samples, graded)
    ]
    return ifeval_metrics(graded), generations
