"""The relevance discriminator against its baselines on rule-labelled rollouts (METHOD.md section 7).

    python bench/bench_discriminator.py [--preset demo] [--rollout-prompts 120] [--group-size 4]
                                        [--set KEY=VALUE ...] [--out bench/results/discriminator.json]

1. A fresh run of the preset (in its data_dir, so it can be queried like any run): the rubrics
   stage, then round 0's rollouts (--rollout-prompts prompts x --group-size responses, the demo's
   rollouts scaled up) and the rule judge, whose evidence spans are the token labels.
2. The discriminator trained on the pairs of the training prompts, from the policy's weights, with
   the preset's `discriminator` settings and 3 epochs (override with --set discriminator.epochs=4 ...).
3. On the pairs of the held-out prompts (split by prompt, as the stage does): token precision,
   recall, F1 at 0.5, AUROC and ECE, overall and per item kind, for the discriminator and for
   the baselines: lexical (tokens overlapping the item's words), uniform (every token 1), random
   (U(0,1), seeded) and kind prior (every token gets the fraction of positive tokens of its item
   kind in the training pairs: what knowing the item kind alone is worth). The baselines are
   scored on every labelled token; the discriminator on the tokens that survive its input limit
   (2048 tokens: all of them at these lengths).
4. Scoring throughput: `score_relevance` over the held-out responses and their items, in
   (response, item) pairs per second, packed (`discriminator.pack_length`) and with one input per
   padded row, side by side.

Targets (issue 5): trained on CPU within 20 minutes, held-out F1 >= 0.8 and clearly above the
lexical baseline. The JSON says whether each was met.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

from rtt.checkpoints import base_policy
from rtt.config import load_config
from rtt.data.store import Store
from rtt.detokenize import decode_with_offsets, spans_to_token_labels
from rtt.discriminator.lexical import item_terms, term_spans
from rtt.discriminator.metrics import token_metrics
from rtt.discriminator.model import init_discriminator
from rtt.discriminator.score import score_relevance
from rtt.discriminator.stage import training_pairs
from rtt.discriminator.train import Pair, evaluate, split_by_prompt, train_discriminator
from rtt.models import load_tokenizer, resolve_device
from rtt.runs import new_run_id, run_stage

ROOT = Path(__file__).resolve().parents[1]
BUDGET_S = 20 * 60
METRICS = ("f1", "precision", "recall", "auroc", "ece")


def judged_run(preset: str, overrides: list[str]) -> str:
    """A new run with round 0's rollouts judged; returns its id."""
    run_id = new_run_id(load_config(preset, overrides))
    for stage in ("rubrics", "rollouts", "judge"):
        run_stage(stage, preset, overrides, run_id, 0)
    return run_id


def by_kind(probs: np.ndarray, labels: np.ndarray, kinds: np.ndarray) -> dict[str, dict]:
    """token_metrics overall ("all") and per item kind, rounded."""
    out = {}
    for kind in ["all", *sorted(set(kinds.tolist()))]:
        sel = np.ones(kinds.size, dtype=bool) if kind == "all" else kinds == kind
        metrics = token_metrics(probs[sel], labels[sel])
        out[kind] = {k: round(float(metrics[k]), 4) for k in METRICS} | {"tokens": int(sel.sum())}
    return out


def baselines(tokenizer, train: list[Pair], pairs: list[Pair], seed: int) -> dict[str, dict]:
    """Lexical, uniform, random and kind-prior relevance on every labelled token of `pairs`."""
    labels = np.concatenate([np.asarray(p.labels) for p in pairs])  # [n]
    kinds = np.array([p.kind for p in pairs for _ in p.labels], dtype=object)  # [n]
    lexical = []
    for p in pairs:
        text, offsets = decode_with_offsets(tokenizer, p.response_ids)
        lexical += spans_to_token_labels(offsets, term_spans(text, item_terms(p.item_text)))
    rng = np.random.default_rng(seed)
    kind_labels = defaultdict(list)
    for p in train:
        kind_labels[p.kind] += p.labels
    prior = {kind: float(np.mean(labels)) for kind, labels in kind_labels.items()}
    overall = float(np.mean([y for p in train for y in p.labels]))
    return {
        "lexical": by_kind(np.asarray(lexical, dtype=np.float64), labels, kinds),
        "uniform": by_kind(np.ones(labels.size), labels, kinds),
        "random": by_kind(rng.random(labels.size), labels, kinds),
        "kind_prior": by_kind(np.array([prior.get(k, overall) for k in kinds]), labels, kinds),
    }


def scoring_throughput(model, tokenizer, cfg, pairs: list[Pair]) -> dict:
    """`score_relevance` over the pairs' responses and items, packed (`pack_length`) and one input
    per padded row (pack_length 0), side by side; the scores must agree."""
    items = defaultdict(list)  # response ids -> its item texts
    for p in pairs:
        items[tuple(p.response_ids)].append(p.item_text)
    responses = [list(r) for r in items]
    out, scores = {"pairs": len(pairs), "responses": len(responses)}, {}
    for name, pack_length in (("packed", cfg.pack_length), ("padded", 0)):
        start = time.perf_counter()
        scores[name] = score_relevance(
            model, tokenizer, cfg.instruction, list(items.values()), responses, cfg.score_batch_size, pack_length
        )
        seconds = time.perf_counter() - start
        out[name] = {
            "pack_length": pack_length,
            "seconds": round(seconds, 2),
            "pairs_per_s": round(len(pairs) / seconds, 1),
        }
    out["packed_over_padded"] = round(out["packed"]["pairs_per_s"] / out["padded"]["pairs_per_s"], 3)
    out["max_abs_difference"] = float((scores["packed"] - scores["padded"]).abs().max())
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--preset", default="demo")
    parser.add_argument("--rollout-prompts", type=int, default=120)
    parser.add_argument("--group-size", type=int, default=4)
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "discriminator.json"))
    args = parser.parse_args()
    overrides = [
        f"rubrics.n_prompts={math.ceil(args.rollout_prompts / 0.75) + 1}",
        f"rollouts.n_prompts={args.rollout_prompts}",
        f"rollouts.group_size={args.group_size}",
        "discriminator.epochs=3",
        *args.set,
    ]
    cfg = load_config(args.preset, overrides)

    start = time.perf_counter()
    run_id = judged_run(args.preset, overrides)
    data_seconds = time.perf_counter() - start
    store = Store(cfg.data_dir)
    pairs = training_pairs(store, run_id, 0)
    train, heldout = split_by_prompt(pairs, cfg.discriminator.eval_fraction, cfg.seed)
    device = resolve_device(cfg.model.device)
    tokenizer = load_tokenizer(base_policy(cfg))
    model = init_discriminator(base_policy(cfg), device)

    start = time.perf_counter()
    history = train_discriminator(model, tokenizer, train, heldout, cfg.discriminator, device, seed=cfg.seed)
    train_seconds = time.perf_counter() - start
    evaluation = evaluate(model, tokenizer, heldout, cfg.discriminator, device)
    results = {
        "discriminator": by_kind(evaluation.probs, evaluation.labels, evaluation.kinds),
        **baselines(tokenizer, train, heldout, cfg.seed),
    }
    f1 = results["discriminator"]["all"]["f1"]
    report = {
        "machine": {"device": str(device), "python": platform.python_version()},
        "run_id": run_id,
        "data": {
            "rollouts": args.rollout_prompts * args.group_size,
            "pairs_train": len(train),
            "pairs_heldout": len(heldout),
            "positive_token_frac": round(float(np.mean(np.concatenate([np.asarray(p.labels) for p in pairs]))), 4),
            "seconds": round(data_seconds, 1),
        },
        "training": {
            "seconds": round(train_seconds, 1),
            "evaluations": len({r["opt_step"] for r in history}),
            "settings": cfg.discriminator.model_dump(),
        },
        "heldout": results,
        "scoring": scoring_throughput(model, tokenizer, cfg.discriminator, heldout),
        "targets": {
            "train_within_20_min": train_seconds <= BUDGET_S,
            "f1_at_least_0.8": f1 >= 0.8,
            "f1_above_lexical": f1 > results["lexical"]["all"]["f1"],
            "f1_above_kind_prior": f1 > results["kind_prior"]["all"]["f1"],
        },
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps({k: report[k] for k in ("data", "training", "scoring", "targets")}, indent=2))
    for source, table in results.items():
        print(f"{source:14s} " + "  ".join(f"{k} {table['all'][k]:.3f}" for k in METRICS))


if __name__ == "__main__":
    main()
