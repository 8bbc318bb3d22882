"""What RTT adds to a GRPO step: one full step of each variant on the same model and batch.

Variants, interleaved in every repeat, each from the same weights (so they sample identical
responses from the same seed):
  grpo               token_weight = 0 (plain GRPO, the baseline; no relevance is computed)
  rtt_gold           token_weight = 0.5 with gold-span relevance: the RTT math without a model
  rtt_discriminator  token_weight = 0.5 with a discriminator (an untrained head on the policy
                     backbone: the same cost as a trained one)

Reported: median seconds per phase, and the RTT overhead as a fraction of the step, excluding the
discriminator's own forward pass:
  overhead = [(score + advantage) of rtt_gold - (score + advantage) of grpo] / total of rtt_gold
(the phases that differ; sampling, judging and the update do the same work in every variant),
plus the whole-step ratio rtt_gold / grpo, which also carries the machine's noise.

    python bench/bench_grpo_step.py [--model smollm2-135m-instruct] [--out bench/results/grpo_step.json]
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import time
from pathlib import Path

import torch

from rtt.config import load_config
from rtt.discriminator.model import init_discriminator
from rtt.grpo.stage import grpo_step
from rtt.grpo.trainer import PolicyTrainer
from rtt.judge.verdicts import Judge
from rtt.models import load_causal_lm, load_tokenizer, resolve_policy
from rtt.rubrics.builtin import generate_prompts
from rtt.rubrics.items import RubricItem

PHASES = ("t_sample", "t_judge", "t_score", "t_advantage", "t_update", "t_total")
VARIANTS = {
    "grpo": ["grpo.token_weight=0"],
    "rtt_gold": ["grpo.token_weight=0.5", "grpo.relevance=gold"],
    "rtt_discriminator": ["grpo.token_weight=0.5", "grpo.relevance=discriminator"],
}


def prompts_and_rubrics(n: int, seed: int) -> tuple[list[dict], dict[str, list[RubricItem]]]:
    prompts = generate_prompts(n, seed)
    rubrics = {p["prompt_id"]: [RubricItem(f"{p['prompt_id']}-{k}", p["prompt_id"], k, c["text"], 1.0, "rule",
                                           c["instruction_id"], c["kwargs"]) for k, c in enumerate(p["constraints"])]
               for p in prompts}
    return prompts, rubrics


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="smollm2-135m-instruct", help="policy name or path (tiny for a quick check)")
    parser.add_argument("--prompts", type=int, default=2, help="B")
    parser.add_argument("--group", type=int, default=4, help="G")
    parser.add_argument("--tokens", type=int, default=48, help="max new tokens")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--data-dir", default="data", help="where built-in models are cached")
    parser.add_argument("--out", default="bench/results/grpo_step.json")
    args = parser.parse_args()

    common = [f"model.policy={args.model}", f"data_dir={args.data_dir}", f"grpo.prompts_per_step={args.prompts}",
              f"grpo.group_size={args.group}", f"grpo.max_new_tokens={args.tokens}", "grpo.micro_batch_size=8"]
    configs = {name: load_config("demo", common + extra) for name, extra in VARIANTS.items()}
    cfg = configs["grpo"]
    device = torch.device("cpu")
    policy = resolve_policy(cfg.model.policy, cfg.data_dir)
    tokenizer = load_tokenizer(policy)
    model = load_causal_lm(policy, device)
    weights = copy.deepcopy(model.state_dict())
    discriminator = init_discriminator(policy, device)
    prompts, rubrics = prompts_and_rubrics(args.prompts, seed=1)

    times: dict[str, list[dict]] = {name: [] for name in VARIANTS}
    for repeat in range(args.repeats):
        for name, variant in configs.items():
            model.load_state_dict(weights)
            trainer = PolicyTrainer(model, variant.grpo, device)
            start = time.perf_counter()
            tables = grpo_step(variant, "bench", 0, 0, policy, model, tokenizer, trainer, prompts, rubrics, discriminator,
                               torch.Generator().manual_seed(0), Judge(variant.judge))
            row = tables["train_steps"][0]
            times[name].append({p: row[p] for p in PHASES})
            print(f"repeat {repeat} {name:18s} " + " ".join(f"{p[2:]} {row[p]:6.2f}" for p in PHASES)
                  + f"  (wall {time.perf_counter() - start:.1f} s)", flush=True)

    median = {name: {p: statistics.median(r[p] for r in rows) for p in PHASES} for name, rows in times.items()}
    extra = lambda m: m["t_score"] + m["t_advantage"]  # noqa: E731
    overhead = (extra(median["rtt_gold"]) - extra(median["grpo"])) / median["rtt_gold"]["t_total"]
    result = {
        "model": args.model, "device": "cpu", "threads": torch.get_num_threads(),
        "batch": {"prompts": args.prompts, "group_size": args.group, "max_new_tokens": args.tokens},
        "repeats": args.repeats, "median_seconds": median,
        "rtt_overhead_fraction_excluding_discriminator": overhead,
        "whole_step_ratio_rtt_gold_over_grpo": median["rtt_gold"]["t_total"] / median["grpo"]["t_total"],
        "discriminator_forward_fraction": median["rtt_discriminator"]["t_score"] / median["rtt_discriminator"]["t_total"],
        "target": "overhead under 0.15 of step time, excluding the discriminator's forward pass",
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"\nRTT overhead (excluding the discriminator forward): {overhead:.2%} of the step "
          f"(target < 15%); whole-step ratio rtt_gold/grpo {result['whole_step_ratio_rtt_gold_over_grpo']:.3f}; "
          f"discriminator scoring {result['discriminator_forward_fraction']:.1%} of an RTT step\nwrote {out}")


if __name__ == "__main__":
    main()
