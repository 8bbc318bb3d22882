"""Rollouts stage: G samples per training prompt from the round's starting policy."""

from __future__ import annotations

import time

from rtt.checkpoints import starting_policy
from rtt.config import Config
from rtt.data.store import Store, stable_id
from rtt.models import load_causal_lm, load_tokenizer, resolve_device
from rtt.rollout.engine import engine_for
from rtt.rollout.sampler import Sample
from rtt.rubrics.items import conversation, load_prompts
from rtt.tracking import Tracker


def rollout_rows(run_id: str, round_: int, step: int, policy: str, prompts: list[dict], samples: list[Sample]) -> list[dict]:
    rows = []
    for s in samples:
        prompt_id = prompts[s.prompt_index]["prompt_id"]
        rows.append({
            "run_id": run_id, "rollout_id": stable_id(run_id, round_, step, prompt_id, s.sample_index),
            "prompt_id": prompt_id, "round": round_, "step": step, "sample_index": s.sample_index, "policy": policy,
            "prompt_token_ids": s.prompt_token_ids, "token_ids": s.token_ids, "logprobs": s.logprobs,
            "text": s.text, "num_tokens": len(s.token_ids), "finished": s.finished,
            "reward": None, "adv_response": None, "adv_tokens": None,
        })
    return rows


def pick_prompts(prompts: list[dict], n: int, offset: int) -> list[dict]:
    """n prompts starting at `offset`, wrapping around: successive rounds and steps see new prompts."""
    return [prompts[(offset + i) % len(prompts)] for i in range(min(n, len(prompts)))]


def run_rollouts(cfg: Config, store: Store, tracker: Tracker, run_id: str, round_: int) -> dict:
    c = cfg.rollouts
    policy = starting_policy(cfg, store, run_id, round_)
    device = resolve_device(cfg.model.device)
    tokenizer = load_tokenizer(policy)
    model = load_causal_lm(policy, device, cfg.model.dtype)
    prompts = pick_prompts(load_prompts(store, run_id, "train"), c.n_prompts, round_ * c.n_prompts)
    engine = engine_for(cfg, policy, c.batch_size)
    start = time.perf_counter()
    samples = engine.sample(model, tokenizer, [conversation(p) for p in prompts], c.group_size, c.max_new_tokens,
                            c.temperature, c.top_p, seed=cfg.seed + 1000 * round_, desc=f"rollouts r{round_}")
    seconds = time.perf_counter() - start
    rows = rollout_rows(run_id, round_, -1, policy, prompts, samples)
    store.write("rollouts", rows, run_id, f"round{round_}")
    tokens = sum(r["num_tokens"] for r in rows)
    summary = {"rollouts": len(rows), "response_tokens": tokens, "tokens_per_s": round(tokens / seconds, 1),
               "finished_frac": round(sum(r["finished"] for r in rows) / len(rows), 3), "seconds": round(seconds, 1)}
    tracker.log_metrics(summary, step=round_)
    return summary
