"""The GPU checks of the `gpu` preset, in one run: what rollouts and updates cost on the accelerator.

1. vLLM generation: the same prompts through the raw engine (`LLM.generate` on token ids) and
   through rtt's engine (`VLLMEngine.sample`: the weight sync from the trainer's model, then
   generation, then `Sample`s with character offsets). Reported: generated tokens/s of each, their
   ratio, and the sync's seconds.
2. The policy update: `PolicyTrainer.update` on --prompts x --group sequences of --tokens response
   tokens (random ids, random advantages), bf16 autocast on CUDA. Reported: response tokens/s,
   model FLOP/s (6 x parameters x tokens for forward + backward, 2 x for the no-grad old-logprob
   pass when it runs, over prompt + response tokens), and MFU against the device's dense bf16 peak.
3. Peak memory: torch.cuda.max_memory_allocated over the run, and vLLM's share (its
   gpu_memory_utilization).

    python bench/bench_gpu.py [--config gpu] [--model Qwen/Qwen2.5-0.5B-Instruct] [--prompts 32] [--group 8]
                              [--tokens 512] [--repeats 3] [--out bench/results/gpu.json]

On a machine without CUDA, `--config smoke --model tiny --device cpu --tokens 16` checks the script
runs (no MFU: no peak to compare with).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import torch

from rtt.checkpoints import resolve_policy
from rtt.config import load_config
from rtt.data.items import conversation
from rtt.generator.builtin import generate_prompts
from rtt.grpo.logprobs import pack
from rtt.grpo.trainer import PolicyTrainer
from rtt.models import load_causal_lm, load_tokenizer, resolve_device
from rtt.rollout.engine import engine_for
from rtt.rollout.sampler import prompt_token_ids

ROOT = Path(__file__).resolve().parents[1]
DENSE_BF16_PEAK = {"H100": 989e12, "H200": 989e12, "A100": 312e12, "L40S": 362e12, "B200": 2250e12}
"""Dense bf16 tensor-core FLOP/s by device name fragment (vendor datasheets, without sparsity)."""


def bf16_peak(device: torch.device) -> float | None:
    if device.type != "cuda":
        return None
    name = torch.cuda.get_device_name(device)
    return next((peak for key, peak in DENSE_BF16_PEAK.items() if key in name), None)


def timed(fn, repeats: int) -> tuple[list[float], object]:
    """Wall seconds of each of `repeats` calls (CUDA synchronized) after one untimed warm-up call,
    and the last result."""
    seconds, out = [], fn()
    for _ in range(repeats):
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        start = time.perf_counter()
        out = fn()
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        seconds.append(time.perf_counter() - start)
    return seconds, out


def bench_generation(cfg, policy: str, model, tokenizer, prompts: list, args) -> dict:
    from vllm import SamplingParams
    from vllm.inputs import TokensPrompt

    engine = engine_for(cfg, policy, len(prompts) * args.group)
    params = SamplingParams(
        n=args.group,
        max_tokens=args.tokens,
        temperature=1.0,
        logprobs=0,
        seed=0,
        stop_token_ids=[tokenizer.eos_token_id],
        detokenize=False,
    )
    ids = [TokensPrompt(prompt_token_ids=prompt_token_ids(tokenizer, p)) for p in prompts]
    raw_s, outputs = timed(lambda: engine.llm.generate(ids, params, use_tqdm=False), args.repeats)
    raw_tokens = sum(len(c.token_ids) for o in outputs for c in o.outputs)
    ours_s, samples = timed(
        lambda: engine.sample(model, tokenizer, prompts, args.group, args.tokens, seed=0), args.repeats
    )
    ours_tokens = sum(len(s.token_ids) for s in samples)
    raw, ours = raw_tokens / statistics.median(raw_s), ours_tokens / statistics.median(ours_s)
    return {
        "engine_start_s": engine.startup_s,
        "raw_tokens_per_s": raw,
        "rtt_tokens_per_s": ours,
        "rtt_over_raw": ours / raw,
        "sync_s": engine.sync_s,
        "raw_seconds": raw_s,
        "rtt_seconds": ours_s,
    }


def bench_update(cfg, model, tokenizer, prompts: list, args, device: torch.device) -> dict:
    generator = torch.Generator().manual_seed(0)
    encoded = [prompt_token_ids(tokenizer, p) for p in prompts for _ in range(args.group)]
    responses = torch.randint(0, model.config.vocab_size, (len(encoded), args.tokens), generator=generator)  # [N, T]
    batch = pack(encoded, responses.tolist(), tokenizer.pad_token_id)
    advantages = torch.randn(len(encoded), 1, generator=generator) * batch.response_mask  # [N, T]
    trainer = PolicyTrainer(model, cfg.grpo, device)
    seconds, _ = timed(lambda: trainer.update(batch, advantages), args.repeats)
    median = statistics.median(seconds)
    params = sum(p.numel() for p in model.parameters())
    tokens = int(batch.attention_mask.sum())  # prompt + response tokens the forward passes see
    passes = 6 + (2 if cfg.grpo.updates_per_batch > 1 else 0)  # fwd + bwd, and the old-logprob pass
    flops = passes * params * tokens / median
    peak = bf16_peak(device)
    return {
        "sequences": len(encoded),
        "response_tokens": int(batch.response_mask.sum()),
        "tokens_seen": tokens,
        "parameters": params,
        "seconds": seconds,
        "response_tokens_per_s": int(batch.response_mask.sum()) / median,
        "model_flops_per_s": flops,
        "bf16_peak_flops_per_s": peak,
        "mfu": flops / peak if peak else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", default="gpu")
    parser.add_argument("--model", default=None, help="policy name or path (default: the preset's)")
    parser.add_argument("--device", default=None, help="default: the preset's")
    parser.add_argument("--prompts", type=int, default=32)
    parser.add_argument("--group", type=int, default=8)
    parser.add_argument("--tokens", type=int, default=512)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--data-dir", default="data")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "gpu.json"))
    args = parser.parse_args()
    overrides = [f"data_dir={args.data_dir}", "rollout.engine=vllm"]
    overrides += [f"model.policy={args.model}"] if args.model else []
    overrides += [f"model.device={args.device}"] if args.device else []
    cfg = load_config(args.config, overrides)
    device = resolve_device(cfg.model.device)
    policy = resolve_policy(cfg.model.policy, cfg.data_dir)
    tokenizer = load_tokenizer(policy)
    model = load_causal_lm(policy, device, cfg.model.dtype)
    prompts = [conversation(p) for p in generate_prompts(args.prompts, seed=1)]
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    result = {
        "config": args.config,
        "model": cfg.model.policy,
        "device": str(device),
        "device_name": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
        "prompts": args.prompts,
        "group": args.group,
        "max_new_tokens": args.tokens,
        "rollout": cfg.rollout.model_dump(),
    }
    result["generation"] = bench_generation(cfg, policy, model, tokenizer, prompts, args)
    print(json.dumps(result["generation"], indent=1), flush=True)
    result["update"] = bench_update(cfg, model, tokenizer, prompts, args, device)
    print(json.dumps(result["update"], indent=1), flush=True)
    if device.type == "cuda":
        result["peak_memory_gib"] = torch.cuda.max_memory_allocated(device) / 2**30
        result["total_memory_gib"] = torch.cuda.get_device_properties(device).total_memory / 2**30
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
