"""The cost of a GRPO step on CPU, in two parts, each measured side by side in one process
(interleaved repeats, medians):

update    `PolicyTrainer.update` on one rollout batch, from the same weights each time, in five
          settings, each adding one change to the one before. The batch has the demo's shape:
          --prompts 4 built-in prompts (63 to 119 tokens with SmolLM2's chat template) x --group 4
          = 16 sequences, each with --response-tokens 64 random response ids and one N(0, 1)
          advantage; 2 optimizer steps of 8 sequences (one micro-batch each), after the no-grad
          pass for the old logprobs.
            before           logits at all L positions, then gathered; AdamW's default per-weight
                             loop; every weight trained (the trainer before these changes: the baseline)
            response_logits  the LM head at the T response positions only
            fused_adamw      + fused AdamW (the trainer's default now)
            train_layers_4   + grpo.train_layers=4
            train_layers_2   + grpo.train_layers=2 (instead of 4)
          The order rotates with each repeat, so no setting always runs first. Reported: median
          wall and CPU seconds (CPU: the process's threads together; it leaves out the time spent
          waiting for a core), the ratios to `before` (median over repeats of the ratio within a
          repeat), response tokens per wall second, and the largest logprob difference between
          the two logit paths on 4 of the sequences (same weights, no grad). On a shared machine,
          --threads 1 keeps a thread that waits for a core from stalling the other at every op.

overhead  What RTT adds to a whole GRPO step: one full step of each variant on the same model and
          batch, each from the same weights (so they sample identical responses from the same seed):
            grpo               token_weight = 0 (plain GRPO, the baseline; no relevance is computed)
            rtt_gold           token_weight = 0.5 with gold-span relevance: the RTT math without a model
            rtt_discriminator  token_weight = 0.5 with a discriminator (an untrained head on the policy
                               backbone: the same cost as a trained one)
          Reported: median seconds per phase, and the RTT overhead as a fraction of the step,
          excluding the discriminator's own forward pass:
            overhead = [(score + advantage) of rtt_gold - (score + advantage) of grpo] / total of rtt_gold
          (the phases that differ; sampling, judging and the update do the same work in every
          variant), plus the whole-step ratio rtt_gold / grpo, which also carries the machine's noise.

    python bench/bench_grpo_step.py [--part update|overhead|all] [--model smollm2-135m-instruct]
                                    [--repeats 3] [--threads 2] [--out bench/results/grpo_step.json]

`--model tiny` is a quick check that the script runs (its 2 layers make train_layers 4 and 2 the same).
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import statistics
import time
from functools import partial
from pathlib import Path
from unittest import mock

import torch

import rtt.grpo.trainer as trainer_module
from rtt.checkpoints import resolve_policy
from rtt.config import load_config
from rtt.data.items import constraint_items, conversation
from rtt.discriminator.model import init_discriminator
from rtt.generator.builtin import generate_prompts
from rtt.grpo.logprobs import Packed, pack, token_logprobs
from rtt.grpo.stage import Learner, grpo_step
from rtt.grpo.trainer import PolicyTrainer
from rtt.judge.verdicts import Judge
from rtt.models import load_causal_lm, load_tokenizer
from rtt.rollout.engine import HFEngine
from rtt.rollout.sampler import prompt_token_ids

ROOT = Path(__file__).resolve().parents[1]
PHASES = ("t_sample", "t_judge", "t_score", "t_advantage", "t_update", "t_total")
VARIANTS = {
    "grpo": ["grpo.token_weight=0"],
    "rtt_gold": ["grpo.token_weight=0.5", "grpo.relevance=gold"],
    "rtt_discriminator": ["grpo.token_weight=0.5", "grpo.relevance=discriminator"],
}
UPDATE_SETTINGS = {  # name -> (response-only logits, fused AdamW, train_layers)
    "before": (False, False, 0),
    "response_logits": (True, False, 0),
    "fused_adamw": (True, True, 0),
    "train_layers_4": (True, True, 4),
    "train_layers_2": (True, True, 2),
}


def update_batch(
    tokenizer, vocab: int, n_prompts: int, group: int, tokens: int, seed: int
) -> tuple[Packed, torch.Tensor]:
    """(batch, advantages [N, T]): each built-in prompt `group` times, random responses of `tokens` ids."""
    generator = torch.Generator().manual_seed(seed)
    prompts = [
        prompt_token_ids(tokenizer, conversation(p)) for p in generate_prompts(n_prompts, seed) for _ in range(group)
    ]
    responses = torch.randint(0, vocab, (len(prompts), tokens), generator=generator)  # [N, T]
    batch = pack(prompts, responses.tolist(), tokenizer.pad_token_id)
    advantages = torch.randn(len(prompts), 1, generator=generator) * batch.response_mask  # [N, T]
    return batch, advantages


def time_update(
    model, weights: dict, cfg, batch: Packed, advantages: torch.Tensor, response_only: bool, fused: bool
) -> float:
    """(wall, CPU) seconds of one `PolicyTrainer.update` from `weights`, with the trainer's logprobs on
    the given path, and its fused AdamW (the default) or AdamW's per-weight loop (as before)."""
    model.load_state_dict(weights)
    trainer = PolicyTrainer(model, cfg, torch.device("cpu"))
    if not fused:
        trainer.optimizer = torch.optim.AdamW(trainer.params, lr=cfg.lr, weight_decay=cfg.weight_decay)
        trainer.scheduler = torch.optim.lr_scheduler.LambdaLR(trainer.optimizer, lambda step: 1.0)
    with mock.patch.object(trainer_module, "token_logprobs", partial(token_logprobs, response_only=response_only)):
        wall, cpu = time.perf_counter(), time.process_time()
        trainer.update(batch, advantages)
        return time.perf_counter() - wall, time.process_time() - cpu


def logit_paths_difference(model, batch: Packed) -> float:
    """Largest |logprob| difference between full and response-only logits on the first 4 sequences."""
    part = batch.select(range(min(4, batch.input_ids.shape[0])))
    with torch.no_grad():
        full, _ = token_logprobs(model.eval(), part, response_only=False)  # [4, T]
        fast, _ = token_logprobs(model, part, response_only=True)  # [4, T]
    return float((full - fast)[part.response_mask].abs().max())


def timed_rounds(model, configs: dict, batch: Packed, advantages: torch.Tensor, repeats: int) -> dict[str, dict]:
    """Wall and CPU seconds of every setting in every repeat, each from the same weights, the order
    rotated per repeat."""
    weights = copy.deepcopy(model.state_dict())
    names = list(UPDATE_SETTINGS)
    times: dict[str, dict] = {"wall": {name: [] for name in names}, "cpu": {name: [] for name in names}}
    for repeat in range(repeats):
        for name in names[repeat % len(names) :] + names[: repeat % len(names)]:
            wall, cpu = time_update(model, weights, configs[name], batch, advantages, *UPDATE_SETTINGS[name][:2])
            times["wall"][name].append(wall)
            times["cpu"][name].append(cpu)
            print(f"update repeat {repeat} {name:16s} wall {wall:6.2f} s  cpu {cpu:6.2f} s", flush=True)
    model.load_state_dict(weights)
    model.requires_grad_(True)
    return times


def paired_ratios(runs: dict[str, list[float]]) -> dict[str, float]:
    """Per setting, the median over repeats of its seconds / `before`'s seconds in the same repeat
    (a repeat's settings run minutes apart at most: the load of a shared machine drifts less)."""
    return {name: statistics.median(t / b for t, b in zip(times, runs["before"])) for name, times in runs.items()}


def bench_update(args, policy: str, model, tokenizer) -> dict:
    overrides = [
        f"grpo.prompts_per_step={args.prompts}",
        f"grpo.group_size={args.group}",
        f"grpo.max_new_tokens={args.response_tokens}",
        "grpo.micro_batch_size=8",
    ]
    configs = {
        name: load_config("demo", overrides + [f"grpo.train_layers={layers}"]).grpo
        for name, (_, _, layers) in UPDATE_SETTINGS.items()
    }
    batch, advantages = update_batch(
        tokenizer, model.config.vocab_size, args.prompts, args.group, args.response_tokens, seed=1
    )
    times = timed_rounds(model, configs, batch, advantages, args.repeats)
    median = {clock: {name: statistics.median(t) for name, t in runs.items()} for clock, runs in times.items()}
    tokens = int(batch.response_mask.sum())
    return {
        "batch": {
            "sequences": batch.input_ids.shape[0],
            "prompt_tokens": sorted(set(batch.positions[:, 0].add(1).tolist())),
            "response_tokens": args.response_tokens,
            "padded_length": batch.input_ids.shape[1],
            "updates_per_batch": configs["before"].updates_per_batch,
            "micro_batch_size": 8,
        },
        "settings": {
            name: {"response_logits_only": only, "fused_adamw": fused, "train_layers": layers}
            for name, (only, fused, layers) in UPDATE_SETTINGS.items()
        },
        "seconds": times,
        "median_seconds": median,
        "ratio_to_before": {clock: paired_ratios(runs) for clock, runs in times.items()},
        "response_tokens_per_wall_s": {name: tokens / m for name, m in median["wall"].items()},
        "max_abs_logprob_difference_full_vs_response_only": logit_paths_difference(model, batch),
    }


def bench_overhead(args, policy: str, model, tokenizer) -> dict:
    common = [
        f"model.policy={args.model}",
        f"data_dir={args.data_dir}",
        f"grpo.prompts_per_step={args.overhead_prompts}",
        f"grpo.group_size={args.group}",
        f"grpo.max_new_tokens={args.tokens}",
        "grpo.micro_batch_size=8",
    ]
    configs = {name: load_config("demo", common + extra) for name, extra in VARIANTS.items()}
    device = torch.device("cpu")
    weights = copy.deepcopy(model.state_dict())
    discriminator = init_discriminator(policy, device)
    prompts = generate_prompts(args.overhead_prompts, seed=1)
    rubrics = constraint_items(prompts)

    times: dict[str, list[dict]] = {name: [] for name in VARIANTS}
    for repeat in range(args.repeats):
        for name, variant in configs.items():
            model.load_state_dict(weights)
            trainer = PolicyTrainer(model, variant.grpo, device)
            start = time.perf_counter()
            learner = Learner(
                policy,
                model,
                tokenizer,
                trainer,
                HFEngine(len(prompts) * args.group),
                Judge(variant.judge),
                discriminator,
                torch.Generator().manual_seed(0),
            )
            tables = grpo_step(variant, "bench", 0, 0, learner, prompts, rubrics)
            row = tables["train_steps"][0]
            times[name].append({p: row[p] for p in PHASES})
            print(
                f"overhead repeat {repeat} {name:18s} "
                + " ".join(f"{p[2:]} {row[p]:6.2f}" for p in PHASES)
                + f"  (wall {time.perf_counter() - start:.1f} s)",
                flush=True,
            )
    model.load_state_dict(weights)

    median = {name: {p: statistics.median(r[p] for r in rows) for p in PHASES} for name, rows in times.items()}
    extra = lambda m: m["t_score"] + m["t_advantage"]  # noqa: E731
    return {
        "batch": {"prompts": args.overhead_prompts, "group_size": args.group, "max_new_tokens": args.tokens},
        "median_seconds": median,
        "rtt_overhead_fraction_excluding_discriminator": (extra(median["rtt_gold"]) - extra(median["grpo"]))
        / median["rtt_gold"]["t_total"],
        "whole_step_ratio_rtt_gold_over_grpo": median["rtt_gold"]["t_total"] / median["grpo"]["t_total"],
        "discriminator_forward_fraction": median["rtt_discriminator"]["t_score"]
        / median["rtt_discriminator"]["t_total"],
        "target": "overhead under 0.15 of step time, excluding the discriminator's forward pass",
    }


def print_update(update: dict, repeats: int) -> None:
    median, ratio = update["median_seconds"], update["ratio_to_before"]
    print(f"\nPolicyTrainer.update, median of {repeats}: wall seconds (paired ratio), CPU seconds (paired ratio)")
    for name in median["wall"]:
        print(
            f"  {name:16s} {median['wall'][name]:6.2f} s (x{ratio['wall'][name]:.3f})  "
            f"{median['cpu'][name]:6.2f} s (x{ratio['cpu'][name]:.3f})  "
            f"{update['response_tokens_per_wall_s'][name]:6.1f} response tokens/s"
        )
    print(
        f"  max |logprob| difference, full vs response-only logits: "
        f"{update['max_abs_logprob_difference_full_vs_response_only']:.2e}"
    )


def print_overhead(overhead: dict) -> None:
    print(
        f"\nRTT overhead (excluding the discriminator forward): "
        f"{overhead['rtt_overhead_fraction_excluding_discriminator']:.2%} of the step (target < 15%); "
        f"whole-step ratio rtt_gold/grpo {overhead['whole_step_ratio_rtt_gold_over_grpo']:.3f}; "
        f"discriminator scoring {overhead['discriminator_forward_fraction']:.1%} of an RTT step"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--part", choices=("update", "overhead", "all"), default="all")
    parser.add_argument("--model", default="smollm2-135m-instruct", help="policy name or path (tiny for a quick check)")
    parser.add_argument("--prompts", type=int, default=4, help="update: B")
    parser.add_argument("--overhead-prompts", type=int, default=2, help="overhead: B")
    parser.add_argument("--group", type=int, default=4, help="G")
    parser.add_argument("--response-tokens", type=int, default=64, help="update: tokens per response")
    parser.add_argument("--tokens", type=int, default=48, help="overhead: max new tokens")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads(), help="torch CPU threads")
    parser.add_argument("--data-dir", default="data", help="where built-in models are cached")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "grpo_step.json"))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    policy = resolve_policy(args.model, args.data_dir)
    tokenizer = load_tokenizer(policy)
    model = load_causal_lm(policy, torch.device("cpu"))
    result = {
        "model": args.model,
        "device": "cpu",
        "threads": torch.get_num_threads(),
        "cpus": os.cpu_count(),
        "repeats": args.repeats,
    }
    if args.part in ("update", "all"):
        result["update"] = bench_update(args, policy, model, tokenizer)
        print_update(result["update"], args.repeats)
    if args.part in ("overhead", "all"):
        result["overhead"] = bench_overhead(args, policy, model, tokenizer)
        print_overhead(result["overhead"])
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
