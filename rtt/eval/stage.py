"""Eval stage: greedy answers to held-out prompts, graded item by item (METHOD.md section 9).

Round -1 evaluates the starting policy, round r the policy that round r produced. Metrics:
prompt-level accuracy (all items satisfied), item-level accuracy, and item accuracy per checker.
Every generation is stored in `generations` so it can be read or re-graded with SQL.
"""

from __future__ import annotations

import time

from rtt.checkpoints import evaluated_policy
from rtt.config import Config
from rtt.data.store import Store
from rtt.judge.rule import judge_item
from rtt.models import load_causal_lm, load_tokenizer, resolve_device
from rtt.rollout.sampler import sample
from rtt.rubrics.items import load_prompts, load_rubrics
from rtt.tracking import Tracker

BENCHMARK = "heldout_rubrics"


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


def run_eval(cfg: Config, store: Store, tracker: Tracker, run_id: str, round_: int) -> dict:
    checkpoint = evaluated_policy(cfg, store, run_id, round_)
    device = resolve_device(cfg.model.device)
    tokenizer = load_tokenizer(checkpoint)
    model = load_causal_lm(checkpoint, device, cfg.model.dtype)
    prompts = load_prompts(store, run_id, "eval")
    if cfg.eval.max_prompts:
        prompts = prompts[:cfg.eval.max_prompts]
    rubrics = load_rubrics(store, run_id)
    start = time.perf_counter()
    samples = sample(model, tokenizer, [p["prompt"] for p in prompts], 1, cfg.eval.max_new_tokens,
                     batch_size=cfg.eval.batch_size, greedy=True, desc=f"eval r{round_}")
    graded, generations = [], []
    for s in samples:
        prompt = prompts[s.prompt_index]
        results = [(item.label, judge_item(item, s.text, prompt["prompt"])[0] > 0) for item in rubrics[prompt["prompt_id"]]]
        graded.append(results)
        generations.append({
            "run_id": run_id, "round": round_, "checkpoint": checkpoint, "benchmark": BENCHMARK,
            "prompt_id": prompt["prompt_id"], "response": s.text, "num_tokens": len(s.token_ids),
            "items_passed": sum(p for _, p in results), "items_total": len(results),
        })
    metrics = accuracy_metrics(graded)
    store.write("evals", [{"run_id": run_id, "round": round_, "checkpoint": checkpoint, "benchmark": BENCHMARK,
                           "metric": name, "value": value, "n": n} for name, (value, n) in metrics.items()],
                run_id, f"round{round_}")
    store.write("generations", generations, run_id, f"round{round_}")
    tracker.log_metrics({f"eval_{k.replace('/', '_')}": v for k, (v, _) in metrics.items()}, step=round_ + 1)
    return {"checkpoint": checkpoint, "prompts": len(prompts), "seconds": round(time.perf_counter() - start, 1),
            **{k: round(v, 4) for k, (v, _) in metrics.items() if "/" not in k}}
