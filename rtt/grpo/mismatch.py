"""Training-inference mismatch: how far the sampler's logprobs are from the trainer's, and the
truncated importance-sampling (TIS) correction for it.

The sampler (transformers `generate`, or an inference engine) and the trainer compute the
log-probability of the same sampled token with different kernels, batch shapes, padding and
precision, so the tokens were drawn from pi_sampler while the PPO ratio is taken against
pi_old, the trainer's own recomputation. The gap is logged every step (`train_steps`):

- `logprob_gap_abs`: mean |log pi_old - log pi_sampler| over response tokens;
- `logprob_gap_max`: its largest value;
- `logprob_gap_kl`: the k3 estimate of KL(pi_sampler || pi_old) on the sampled tokens,
  r - log r - 1 with r = pi_old / pi_sampler (non-negative, 0 when the two agree).

TIS (Yao et al. 2025, "Your efficient RL framework secretly brings you off-policy RL training"; TRL's
`vllm_importance_sampling_correction`) weights each token's policy-gradient term by
w_t = min(pi_old / pi_sampler, C), a constant of the loss; the KL and entropy terms are not
weighted, as in TRL. C is `grpo.tis_cap` (0: off, the default).

Glossary: N responses, T response tokens (padded); every tensor here is [N, T].
"""

from __future__ import annotations

import torch


def pad_logprobs(rows: list[list[float]], width: int) -> torch.Tensor:
    """Per-response sampler logprobs, right-padded with 0 to `[N, width]`."""
    out = torch.zeros(len(rows), width)  # [N, T]
    for i, row in enumerate(rows):
        out[i, : len(row)] = torch.tensor(row[:width])
    return out


@torch.no_grad()
def logprob_gap(trainer_logp: torch.Tensor, sampler_logp: torch.Tensor, mask: torch.Tensor) -> dict[str, float]:
    """The three gap statistics above, over the valid tokens of `mask` (all 0 when there are none)."""
    mask = mask.bool()  # [N, T]
    if not mask.any():
        return {"logprob_gap_abs": 0.0, "logprob_gap_max": 0.0, "logprob_gap_kl": 0.0}
    log_r = (trainer_logp.double() - sampler_logp.double())[mask]  # [M] valid tokens; float64, or k3 of a
    # 1e-6 gap rounds to about -1e-10 in float32
    return {
        "logprob_gap_abs": float(log_r.abs().mean()),
        "logprob_gap_max": float(log_r.abs().max()),
        "logprob_gap_kl": float((log_r.exp() - log_r - 1).mean()),
    }


@torch.no_grad()
def tis_weights(trainer_logp: torch.Tensor, sampler_logp: torch.Tensor, mask: torch.Tensor, cap: float) -> torch.Tensor:
    """w = min(exp(log pi_old - log pi_sampler), cap) on valid tokens, 1 on padding. `[N, T]`."""
    if cap <= 0:
        raise ValueError(f"the TIS cap must be > 0, got {cap}")
    log_r = torch.where(mask.bool(), trainer_logp - sampler_logp, 0)  # [N, T]
    return log_r.exp().clamp(max=cap)  # [N, T]
