"""The per-step cost model of docs/SCALING.md, fitted on this machine.

    python bench/bench_scaling.py [--threads 2] [--out bench/results/scaling.json]
    python bench/bench_scaling.py --check RUN_ID [--data-dir data]   # the fit against a run's steps

Measures each term of one RTT-GRPO step on SmolLM2-135M-Instruct (float32, CPU), at a few sizes, and
fits the model's constants:

- sample: transformers sampling of N sequences for L decode steps: t = L * (a + b * N) (least squares)
- update: `PolicyTrainer.update`, one optimizer step, every weight trained: t = t_step + F / R_train,
  F = 6 * P * tokens (forward 2, backward 4 per parameter and token), t_step AdamW and clipping
- score: `score_relevance` over (response, item) pairs: R_fwd in FLOP/s at 2 * P * tokens
- judge: the rule checkers, seconds per (response, item) pair
- advantage: `token_advantages` (intra-sample), seconds per element of [N, K, T]

and writes them, every measured point and each point's fitted value, to JSON. `--check RUN_ID`
predicts every GRPO step of a run in the lake from the fitted constants and prints the prediction
beside the step's measured phases (`train_steps.t_*`). Each size runs once
after one warm-up call; nothing else heavy should run meanwhile (the constants are rates of this
machine).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

import torch

from rtt.checkpoints import resolve_policy
from rtt.config import GRPOConfig
from rtt.data.items import constraint_items, conversation
from rtt.discriminator.model import init_discriminator
from rtt.discriminator.score import score_relevance
from rtt.generator.builtin import generate_prompts
from rtt.grpo.advantages import token_advantages
from rtt.grpo.logprobs import pack
from rtt.grpo.trainer import PolicyTrainer
from rtt.judge.rule import judge_item
from rtt.models import load_causal_lm, load_tokenizer
from rtt.rollout.engine import HFEngine
from rtt.rollout.sampler import prompt_token_ids

ROOT = Path(__file__).resolve().parents[1]


def timed(fn, *args) -> tuple[object, float]:
    """(fn(*args), wall seconds)."""
    start = time.perf_counter()
    out = fn(*args)
    return out, time.perf_counter() - start


def fit_line(xs: list[list[float]], ys: list[float]) -> list[float]:
    """Least-squares coefficients c of y = sum_j c_j x_j (no intercept beyond what xs carry)."""
    solution = torch.linalg.lstsq(torch.tensor(xs, dtype=torch.float64), torch.tensor(ys, dtype=torch.float64)[:, None])
    return solution.solution[:, 0].tolist()


def bench_sample(model, tokenizer, prompts: list[dict]) -> dict:
    """t = L * (a + b * N): L decode steps (the longest response), N sequences."""
    engine = HFEngine(64)
    conversations = [conversation(p) for p in prompts]
    engine.sample(model, tokenizer, conversations[:2], 2, 8, seed=0, desc="warm-up")
    points = []
    for n_prompts, group, max_new in ((2, 2, 32), (2, 4, 32), (4, 4, 32), (4, 4, 64), (8, 4, 32)):
        samples, t = timed(engine.sample, model, tokenizer, conversations[:n_prompts], group, max_new, 1.0, 1.0, 1)
        steps = max(len(s.token_ids) for s in samples)
        points.append({"N": n_prompts * group, "L": steps, "tokens": sum(len(s.token_ids) for s in samples), "s": t})
        print(f"sample N={points[-1]['N']:3d} L={steps:3d}: {t:6.2f} s", flush=True)
    a, b = fit_line([[p["L"], p["L"] * p["N"]] for p in points], [p["s"] for p in points])
    for p in points:
        p["fit_s"] = p["L"] * (a + b * p["N"])
    return {"a_s_per_step": a, "b_s_per_step_per_seq": b, "points": points}


def bench_update(model, tokenizer, prompts: list[dict], params: int) -> dict:
    """R_train = 6 * P * tokens / t for one optimizer step (no separate old-logprob pass)."""
    weights = {k: v.clone() for k, v in model.state_dict().items()}
    ids = [prompt_token_ids(tokenizer, conversation(p)) for p in prompts]
    generator = torch.Generator().manual_seed(0)
    points = []
    for n, length in ((4, 16), (8, 32), (16, 32), (16, 64)):
        responses = torch.randint(0, len(tokenizer), (n, length), generator=generator).tolist()
        batch = pack([ids[i % len(ids)] for i in range(n)], responses, tokenizer.pad_token_id)
        advantages = torch.randn(n, 1, generator=generator) * batch.response_mask  # [N, T]
        cfg = GRPOConfig(micro_batch_size=n, updates_per_batch=1, lr=1e-6)
        model.load_state_dict(weights)
        trainer = PolicyTrainer(model, cfg, torch.device("cpu"))
        if not points:
            trainer.update(batch, advantages)  # warm-up
            model.load_state_dict(weights)
        tokens = int(batch.input_ids.numel())
        _, t = timed(trainer.update, batch, advantages)
        points.append({"N": n, "T_response": length, "tokens": tokens, "s": t, "flop": 6 * params * tokens})
        print(f"update N={n:3d} tokens={tokens:5d}: {t:6.2f} s", flush=True)
    model.load_state_dict(weights)
    return fit_update(points)


def fit_update(points: list[dict]) -> dict:
    """t = t_step + flop / R_train: a fixed cost per optimizer step (AdamW over every weight, clipping)
    and the rate of the forward and backward passes."""
    fixed, per_flop = fit_line([[1.0, p["flop"]] for p in points], [p["s"] for p in points])
    for p in points:
        p["fit_s"] = fixed + per_flop * p["flop"]
    return {"t_step_s": fixed, "R_train_flop_per_s": 1 / per_flop, "points": points}


def bench_score(tokenizer, policy: str, prompts: list[dict], params: int) -> dict:
    """R_fwd = 2 * P * tokens / t of the discriminator's scoring pass (one padded input per pair)."""
    model = init_discriminator(policy, torch.device("cpu"))
    rubrics = constraint_items(prompts)
    generator = torch.Generator().manual_seed(1)
    points = []
    for n, length in ((8, 32), (16, 48), (32, 48)):
        items = [[i.text for i in rubrics[prompts[r % len(prompts)]["prompt_id"]]] for r in range(n)]
        responses = torch.randint(0, len(tokenizer), (n, length), generator=generator).tolist()
        if not points:
            score_relevance(model, tokenizer, "Which tokens matter?", items[:2], responses[:2], 8, 0)  # warm-up
        _, t = timed(score_relevance, model, tokenizer, "Which tokens matter?", items, responses, 8, 0)
        pairs = sum(len(i) for i in items)
        tokens = sum(len(tokenizer(text).input_ids) + length + 16 for its in items for text in its)
        points.append({"pairs": pairs, "tokens": tokens, "s": t, "flop": 2 * params * tokens})
        print(f"score pairs={pairs:3d} tokens~{tokens:5d}: {t:6.2f} s", flush=True)
    rate = statistics.median(p["flop"] / p["s"] for p in points)
    for p in points:
        p["fit_s"] = p["flop"] / rate
    return {"R_fwd_flop_per_s": rate, "points": points}


def bench_judge(prompts: list[dict]) -> dict:
    """Seconds per (response, item) pair of the rule checkers on sampled-like text."""
    rubrics = constraint_items(prompts)
    text = "Here is my answer. " + " ".join(f"word{i % 50}" for i in range(180)) + ". Thanks, and see you."
    pairs = [(item, p["prompt"]) for p in prompts for item in rubrics[p["prompt_id"]]] * 8
    judge_item(pairs[0][0], text, pairs[0][1])  # warm-up: Punkt, langdetect
    _, t = timed(lambda: [judge_item(item, text, prompt) for item, prompt in pairs])
    print(f"judge {len(pairs)} pairs: {t:.3f} s", flush=True)
    return {"s_per_pair": t / len(pairs), "pairs": len(pairs), "s": t}


def bench_advantage() -> dict:
    n, k, t = 512, 20, 1024
    generator = torch.Generator().manual_seed(2)
    verdicts = torch.randint(-1, 2, (n, k), generator=generator).float()  # [N, K]
    relevance = torch.rand(n, k, t, generator=generator)  # [N, K, T]
    mask = torch.ones(n, t, dtype=torch.bool)  # [N, T]
    token_advantages(verdicts, relevance, mask, 8)  # warm-up
    s = min(timed(token_advantages, verdicts, relevance, mask, 8)[1] for _ in range(3))
    print(f"advantage N={n} K={k} T={t}: {s:.3f} s", flush=True)
    return {"s_per_element": s / (n * k * t), "shape": [n, k, t], "s": s}


def check_run(fit: dict, data_dir: str, run_id: str) -> list[dict]:
    """Each GRPO step of `run_id`: the phases `train_steps` measured and the model's prediction."""
    from rtt.data.catalog import query
    from rtt.data.store import Store
    from rtt.rescore import load_run_config

    store = Store(data_dir)
    cfg = load_run_config(store, run_id)
    tokenizer = load_tokenizer(resolve_policy(cfg.model.policy, data_dir))
    instruction = len(tokenizer(cfg.discriminator.instruction).input_ids)
    rubrics = query(store, f"SELECT item_id, text FROM rubrics WHERE run_id = '{run_id}'").to_pylist()
    item_tokens = {r["item_id"]: len(tokenizer(r["text"]).input_ids) for r in rubrics}
    rollouts = query(
        store,
        "SELECT round, step, rollout_id, len(prompt_token_ids) AS prompt, num_tokens AS response FROM rollouts "
        f"WHERE run_id = '{run_id}' AND step >= 0",
    ).to_pylist()
    verdicts = query(store, f"SELECT rollout_id, item_id FROM verdicts WHERE run_id = '{run_id}' AND step >= 0")
    pairs: dict[str, list[str]] = {}
    for v in verdicts.to_pylist():
        pairs.setdefault(v["rollout_id"], []).append(v["item_id"])
    steps = query(store, f"SELECT * FROM train_steps WHERE run_id = '{run_id}' ORDER BY round, step").to_pylist()
    s, u, c, params = fit["sample"], fit["update"], fit["score"], fit["params"]
    scored = cfg.grpo.token_weight != 0 and cfg.grpo.relevance == "discriminator"
    passes = 6 + (2 if cfg.grpo.updates_per_batch > 1 else 0)  # forward + backward, and the old-logprob pass
    out = []
    for row in steps:
        mine = [r for r in rollouts if (r["round"], r["step"]) == (row["round"], row["step"])]
        n, longest = len(mine), max(r["response"] for r in mine)
        padded = n * max(r["prompt"] + r["response"] for r in mine)
        score_tokens = sum(
            instruction + item_tokens[item] + r["response"] + 8 for r in mine for item in pairs.get(r["rollout_id"], [])
        )
        predicted = {
            "sample": longest * (s["a_s_per_step"] + s["b_s_per_step_per_seq"] * n),
            "update": cfg.grpo.updates_per_batch * u["t_step_s"] + passes * params * padded / u["R_train_flop_per_s"],
            "score": 2 * params * score_tokens / c["R_fwd_flop_per_s"] if scored else 0.0,
        }
        measured = {"sample": row["t_sample"] + row["t_sync"], "update": row["t_update"], "score": row["t_score"]}
        out.append(
            {
                "round": row["round"],
                "step": row["step"],
                "N": n,
                "L": longest,
                "padded_tokens": padded,
                "score_tokens": score_tokens,
                "predicted": predicted,
                "measured": measured,
            }
        )
        print(
            f"r{row['round']} s{row['step']} N={n} L={longest}  "
            + "  ".join(f"{k} {predicted[k]:5.2f} / {measured[k]:5.2f} s" for k in predicted),
            flush=True,
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--data-dir", default=str(ROOT / "data"))
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "scaling.json"))
    parser.add_argument("--check", metavar="RUN_ID", help="predict this run's GRPO steps with the fit in --out")
    args = parser.parse_args()
    if args.check:
        fit = json.loads(Path(args.out).read_text())
        fit.setdefault("checks", {})[args.check] = check_run(fit, args.data_dir, args.check)
        Path(args.out).write_text(json.dumps(fit, indent=2) + "\n")
        return
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    policy = resolve_policy("smollm2-135m-instruct", args.data_dir)
    tokenizer = load_tokenizer(policy)
    model = load_causal_lm(policy, torch.device("cpu"))
    params = sum(p.numel() for p in model.parameters())
    prompts = generate_prompts(16, seed=3, max_constraints=3)
    report = {
        "machine": platform.platform(),
        "cpus": os.cpu_count(),
        "threads": args.threads,
        "model": "smollm2-135m-instruct",
        "params": params,
        "dtype": "float32",
        "sample": bench_sample(model, tokenizer, prompts),
        "update": bench_update(model, tokenizer, prompts, params),
        "score": bench_score(tokenizer, policy, prompts, params),
        "judge_rule": bench_judge(prompts),
        "advantage": bench_advantage(),
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=2) + "\n")
    s, u, c = report["sample"], report["update"], report["score"]
    print(
        f"sample: {s['a_s_per_step']:.4f} s/step + {s['b_s_per_step_per_seq']:.5f} s/step/seq; "
        f"update: {u['t_step_s']:.2f} s/step + {u['R_train_flop_per_s'] / 1e9:.0f} GFLOP/s; "
        f"score: {c['R_fwd_flop_per_s'] / 1e9:.0f} GFLOP/s; "
        f"rule judge: {report['judge_rule']['s_per_pair'] * 1e3:.2f} ms/pair; wrote {args.out}"
    )


if __name__ == "__main__":
    main()
