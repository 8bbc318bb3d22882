"""`rollouts` rows from an engine's samples, and which training prompts a round or a step samples
(the rollouts stage and the GRPO stage alike)."""

from __future__ import annotations

from rtt.data.store import stable_id
from rtt.rollout.sampler import Sample


def rollout_rows(
    run_id: str, round_: int, step: int, policy: str, prompts: list[dict], samples: list[Sample]
) -> list[dict]:
    rows = []
    for s in samples:
        prompt_id = prompts[s.prompt_index]["prompt_id"]
        rows.append(
            {
                "run_id": run_id,
                "rollout_id": stable_id(run_id, round_, step, prompt_id, s.sample_index),
                "prompt_id": prompt_id,
                "round": round_,
                "step": step,
                "sample_index": s.sample_index,
                "policy": policy,
                "prompt_token_ids": s.prompt_token_ids,
                "token_ids": s.token_ids,
                "logprobs": s.logprobs,
                "text": s.text,
                "num_tokens": len(s.token_ids),
                "finished": s.finished,
                "reward": None,
                "adv_response": None,
                "adv_tokens": None,
            }
        )
    return rows


def pick_prompts(prompts: list[dict], n: int, offset: int) -> list[dict]:
    """n prompts starting at `offset`, wrapping around: successive rounds and steps see new prompts."""
    return [prompts[(offset + i) % len(prompts)] for i in range(min(n, len(prompts)))]
