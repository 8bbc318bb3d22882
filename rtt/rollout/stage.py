"""Rollouts stage: G samples per training prompt from the round's starting policy."""

from __future__ import annotations

import time

from rtt.checkpoints import starting_policy
from rtt.data.items import conversation, load_prompts
from rtt.data.partitions import round_part
from rtt.models import load_causal_lm, load_tokenizer, resolve_device
from rtt.rollout.engine import engine_for
from rtt.rollout.rows import pick_prompts, rollout_rows
from rtt.stage_context import StageContext, global_step


def run_rollouts(ctx: StageContext) -> dict:
    cfg, store, run_id, round_ = ctx.cfg, ctx.store, ctx.run_id, ctx.round
    c = cfg.rollouts
    policy = starting_policy(cfg, store, run_id, round_)
    device = resolve_device(cfg.model.device)
    tokenizer = load_tokenizer(policy)
    model = load_causal_lm(policy, device, cfg.model.dtype)
    prompts = pick_prompts(load_prompts(store, run_id, "train"), c.n_prompts, round_ * c.n_prompts)
    engine = engine_for(cfg, policy, c.batch_size)
    start = time.perf_counter()
    samples = engine.sample(
        model,
        tokenizer,
        [conversation(p) for p in prompts],
        c.group_size,
        c.max_new_tokens,
        c.temperature,
        c.top_p,
        seed=cfg.seed + 1000 * round_,
        desc=f"rollouts r{round_}",
    )
    seconds = time.perf_counter() - start
    rows = rollout_rows(run_id, round_, -1, policy, prompts, samples)
    store.write("rollouts", rows, run_id, round_part(round_))
    tokens = sum(r["num_tokens"] for r in rows)
    summary = {
        "rollouts": len(rows),
        "response_tokens": tokens,
        "tokens_per_s": round(tokens / seconds, 1),
        "finished_frac": round(sum(r["finished"] for r in rows) / len(rows), 3),
        "seconds": round(seconds, 1),
    }
    ctx.tracker.log_metrics(summary, step=global_step(ctx.cfg, round_, 0))
    return summary
