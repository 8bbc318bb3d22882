"""Our GRPO step against TRL's `GRPOTrainer`, side by side in one process, per phase.

Contenders, each doing the same work: the same policy folder (--model, float32 on CPU), the same
--prompts built-in prompts with their rule-checked rubric items, --group responses per prompt of
up to --tokens new tokens at temperature 1, the all-or-nothing reward, group-scaled advantages,
the PPO-clip loss with eps 0.2 / 0.27 averaged per sequence then over sequences, no KL term
(beta 0), and one optimizer step on all B x G sequences in one micro-batch:

    trl         trl.GRPOTrainer (TRL's `loss_type="grpo"`, no gradient checkpointing: ours has none;
                TRL's default turns it on, which is slower still), transformers `generate`
    rtt-hf      rtt.grpo.stage.grpo_step with `rollout.engine=hf` (plain GRPO: grpo.token_weight=0)
    rtt-vllm    the same with `rollout.engine=vllm`: the in-process vLLM engine, synced every step

They run in blocks of --steps steps, rotating trl, rtt-hf, rtt-vllm, --repeats times; the first
step of each block is a warm-up and is not counted. Each block starts from the folder's weights.
Phases:
    sample   generation (TRL: `_generate`; ours: the engine's sampling, weight sync included)
    update   the loss, backward and optimizer step (TRL: the training step minus
             `_generate_and_score_completions`; ours: `PolicyTrainer.update`)
    other    the rest (rewards, advantages, bookkeeping)
    step     the whole step
Reported: median seconds per phase and contender, and the ratios ours / TRL per phase.

    python bench/bench_vs_trl.py [--model smollm2-135m-instruct] [--prompts 4] [--group 4] [--tokens 64]
                                 [--steps 3] [--repeats 2] [--threads 2] [--engines hf,vllm]
                                 [--out bench/results/vs_trl.json]

Needs TRL (`make install` installs it). `--model tiny --tokens 8` checks the script runs in a minute.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import time
from pathlib import Path

import torch

from rtt.checkpoints import resolve_policy
from rtt.config import load_config
from rtt.data.items import constraint_items, conversation
from rtt.generator.builtin import generate_prompts
from rtt.grpo.stage import Learner, grpo_step
from rtt.grpo.trainer import PolicyTrainer
from rtt.judge.rule import judge_item
from rtt.judge.verdicts import Judge
from rtt.models import load_causal_lm, load_tokenizer
from rtt.rollout.engine import engine_for

ROOT = Path(__file__).resolve().parents[1]
PHASES = ("sample", "update", "other", "step")


def our_config(args, policy: str, engine: str):
    return load_config(
        "demo",
        [
            f"model.policy={policy}",
            "model.device=cpu",
            f"rollout.engine={engine}",
            "grpo.token_weight=0",
            "grpo.reward_mode=all_or_nothing",
            "grpo.scale=group",
            "grpo.loss_agg=seq_mean_token_mean",
            "grpo.beta=0",
            f"grpo.prompts_per_step={args.prompts}",
            f"grpo.group_size={args.group}",
            f"grpo.max_new_tokens={args.tokens}",
            "grpo.temperature=1.0",
            "grpo.top_p=1.0",
            "grpo.updates_per_batch=1",
            f"grpo.micro_batch_size={args.prompts * args.group}",
            "grpo.lr=1e-6",
            "grpo.warmup_steps=0",
        ],
    )


def rtt_block(args, policy: str, engine_name: str, prompts, rubrics) -> list[dict[str, float]]:
    """Seconds per phase of `args.steps` of our GRPO steps from the folder's weights."""
    cfg = our_config(args, policy, engine_name)
    tokenizer = load_tokenizer(policy)
    model = load_causal_lm(policy, torch.device("cpu"))
    trainer = PolicyTrainer(model, cfg.grpo, torch.device("cpu"))
    learner = Learner(
        policy,
        model,
        tokenizer,
        trainer,
        engine_for(cfg, policy, args.prompts * args.group),
        Judge(cfg.judge),
        None,
        torch.Generator().manual_seed(0),
    )
    steps = []
    for step in range(args.steps):
        row = grpo_step(cfg, "bench", 0, step, learner, prompts, rubrics)["train_steps"][0]
        sample = row["t_sync"] + row["t_sample"]
        steps.append(
            {
                "sample": sample,
                "update": row["t_update"],
                "other": row["t_total"] - sample - row["t_update"],
                "step": row["t_total"],
                "reward": row["reward_mean"],
            }
        )
        print(
            f"  rtt-{engine_name} step {step}: " + "  ".join(f"{k} {v:6.2f}" for k, v in steps[-1].items()), flush=True
        )
    return steps


class PhaseTimer:
    """Wraps methods of an object to add their wall time to named totals."""

    def __init__(self):
        self.seconds: dict[str, float] = {}

    def wrap(self, obj, method: str, name: str) -> None:
        inner = getattr(obj, method)

        def timed(*args, **kwargs):
            start = time.perf_counter()
            try:
                return inner(*args, **kwargs)
            finally:
                self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - start

        setattr(obj, method, timed)


def trl_block(args, policy: str, prompts, rubrics) -> list[dict[str, float]]:
    """Seconds per phase of `args.steps` steps of TRL's GRPOTrainer from the folder's weights."""
    from datasets import Dataset
    from transformers import TrainerCallback
    from trl import GRPOConfig, GRPOTrainer

    by_id = {p["prompt_id"]: p for p in prompts}

    def aon_reward(prompts, completions, prompt_id, **_) -> list[float]:  # noqa: ARG001 - TRL passes prompts
        texts = [c[0]["content"] if isinstance(c, list) else c for c in completions]
        return [
            float(all(judge_item(item, text, by_id[pid]["prompt"])[0] == 1 for item in rubrics[pid]))
            for text, pid in zip(texts, prompt_id)
        ]

    rows = [{"prompt": conversation(p), "prompt_id": p["prompt_id"]} for p in prompts] * args.steps
    config = GRPOConfig(
        output_dir=str(ROOT / "bench" / "results" / "trl_scratch"),
        report_to="none",
        save_strategy="no",
        use_cpu=True,
        bf16=False,
        fp16=False,
        gradient_checkpointing=False,
        logging_steps=1,
        disable_tqdm=True,
        per_device_train_batch_size=args.prompts * args.group,
        gradient_accumulation_steps=1,
        num_generations=args.group,
        steps_per_generation=1,
        num_iterations=1,
        max_completion_length=args.tokens,
        temperature=1.0,
        top_p=1.0,
        top_k=0,
        beta=0.0,
        epsilon=0.2,
        epsilon_high=0.27,
        loss_type="grpo",
        scale_rewards="group",
        learning_rate=1e-6,
        lr_scheduler_type="constant",
        warmup_steps=0,
        max_grad_norm=1.0,
        weight_decay=0.0,
        shuffle_dataset=False,
        max_steps=args.steps,
        seed=0,
        dataloader_num_workers=0,
    )
    model = load_causal_lm(policy, torch.device("cpu"))
    trainer = GRPOTrainer(
        model=model,
        reward_funcs=aon_reward,
        args=config,
        train_dataset=Dataset.from_list(rows),
        processing_class=load_tokenizer(policy),
    )
    timer = PhaseTimer()
    timer.wrap(trainer, "_generate", "sample")
    timer.wrap(trainer, "_generate_and_score_completions", "generate_and_score")
    steps = []

    class StepClock(TrainerCallback):
        def on_step_begin(self, *_, **__):
            timer.seconds.clear()
            self.start = time.perf_counter()

        def on_step_end(self, *_, **__):
            total = time.perf_counter() - self.start
            sample, scored = timer.seconds.get("sample", 0.0), timer.seconds.get("generate_and_score", 0.0)
            steps.append({"sample": sample, "update": total - scored, "other": scored - sample, "step": total})
            print(
                f"  trl step {len(steps) - 1}: " + "  ".join(f"{k} {v:6.2f}" for k, v in steps[-1].items()), flush=True
            )

    trainer.add_callback(StepClock())
    trainer.train()
    return steps


def summarize(blocks: dict[str, list[list[dict]]]) -> dict:
    """Median per phase over every block's steps but its first (warm-up), and ratios to TRL."""
    counted = {name: [s for block in runs for s in block[1:]] for name, runs in blocks.items()}
    median = {name: {p: statistics.median(s[p] for s in steps) for p in PHASES} for name, steps in counted.items()}
    ratios = {
        name: {p: median[name][p] / median["trl"][p] for p in PHASES}
        for name in median
        if name != "trl" and "trl" in median
    }
    return {"median_seconds": median, "ratio_to_trl": ratios, "steps_counted": {n: len(s) for n, s in counted.items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="smollm2-135m-instruct", help="policy name or path (tiny for a quick check)")
    parser.add_argument("--prompts", type=int, default=4, help="B")
    parser.add_argument("--group", type=int, default=4, help="G")
    parser.add_argument("--tokens", type=int, default=64, help="max new tokens")
    parser.add_argument("--steps", type=int, default=3, help="steps per block (the first is a warm-up)")
    parser.add_argument("--repeats", type=int, default=2, help="blocks per contender")
    parser.add_argument("--engines", default="hf,vllm", help="our rollout engines to run")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads(), help="torch CPU threads")
    parser.add_argument("--data-dir", default="data", help="where built-in models are cached")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "vs_trl.json"))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    logging.getLogger("transformers").setLevel(logging.ERROR)

    policy = resolve_policy(args.model, args.data_dir)
    prompts = generate_prompts(args.prompts, seed=1)
    rubrics = constraint_items(prompts)
    contenders = ["trl"] + [f"rtt-{e}" for e in args.engines.split(",") if e]
    blocks: dict[str, list[list[dict]]] = {name: [] for name in contenders}
    engine_start = None
    for repeat in range(args.repeats):
        for name in contenders[repeat % len(contenders) :] + contenders[: repeat % len(contenders)]:
            print(f"repeat {repeat}: {name}", flush=True)
            if name == "trl":
                blocks[name].append(trl_block(args, policy, prompts, rubrics))
            else:
                engine = name.removeprefix("rtt-")
                if engine == "vllm" and engine_start is None:
                    start = time.perf_counter()
                    engine_for(our_config(args, policy, "vllm"), policy, 1)
                    engine_start = time.perf_counter() - start
                blocks[name].append(rtt_block(args, policy, engine, prompts, rubrics))
    result = {
        "model": args.model,
        "device": "cpu",
        "dtype": "float32",
        "threads": torch.get_num_threads(),
        "cpus": os.cpu_count(),
        "prompts": args.prompts,
        "group": args.group,
        "max_new_tokens": args.tokens,
        "steps_per_block": args.steps,
        "repeats": args.repeats,
        "vllm_engine_start_s": engine_start,
        **summarize(blocks),
        "blocks": blocks,
    }
    print("\nmedian seconds per step (ratio to TRL)")
    for name, phases in result["median_seconds"].items():
        ratio = result["ratio_to_trl"].get(name, {})
        print(
            f"  {name:9s} "
            + "  ".join(f"{p} {phases[p]:6.2f}" + (f" (x{ratio[p]:.2f})" if ratio else "") for p in PHASES)
        )
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
