"""PPO-clip policy loss for RTT-GRPO (METHOD.md section 6).

L_t = -min(rho_t A_t, clip(rho_t, 1 - eps_low, 1 + eps_high) A_t), rho_t = exp(logp_t - logp_old_t),
plus an optional k3 KL penalty to a frozen reference and an optional entropy bonus, reduced by one
of three aggregations. The advantages arrive precomputed ([N, T], see rtt.grpo.advantages): the loss
never sees rubrics.

Glossary: N responses, T response tokens (padded); every per-token tensor is [N, T], and index t is
the log-probability of generating response token t.

Choices METHOD.md leaves open:
- Gradients flow through `logprobs` (and through `entropy`, a function of the current policy, when
  given); old_logprobs, advantages and ref_logprobs are detached.
- Padding positions are zeroed before any exp, so garbage there (say -inf) cannot leak NaN.
- seq_mean_token_mean averages over the sequences with at least one valid token;
  seq_mean_token_sum_norm divides by N * max_len, a constant normalizer as in Dr. GRPO.
- approx_kl is the k3 estimate of KL(old || new) on tokens sampled from the old policy,
  exp(logp - logp_old) - (logp - logp_old) - 1; kl is the k3 estimate of KL(policy || reference),
  exp(ref - logp) - (ref - logp) - 1. Stats are plain means over valid tokens.
"""

import torch

LOSS_AGGS = ("seq_mean_token_mean", "token_mean", "seq_mean_token_sum_norm")


def policy_loss(
    logprobs,
    old_logprobs,
    advantages,
    response_mask,
    eps_low=0.2,
    eps_high=0.27,
    loss_agg="seq_mean_token_mean",
    max_len=None,
    ref_logprobs=None,
    beta=0.0,
    entropy=None,
    entropy_coef=0.0,
    is_weights=None,
):
    """PPO-clip loss and its stats (clip_frac, approx_kl, kl, ratio_mean, entropy if given).

    logprobs, old_logprobs, advantages, response_mask, ref_logprobs, entropy, is_weights: [N, T].
    ref_logprobs is required when beta > 0; max_len when loss_agg is seq_mean_token_sum_norm.
    is_weights (detached) multiply each token's clipped surrogate: the truncated importance-sampling
    correction of rtt.grpo.mismatch; the KL and entropy terms are not weighted.
    """
    _check_agg(loss_agg, max_len)
    if logprobs.dim() != 2:
        raise ValueError(f"logprobs must be [N, T], got shape {tuple(logprobs.shape)}")
    others = {
        "old_logprobs": old_logprobs,
        "advantages": advantages,
        "response_mask": response_mask,
        "ref_logprobs": ref_logprobs,
        "entropy": entropy,
        "is_weights": is_weights,
    }
    for name, x in others.items():
        if x is not None and x.shape != logprobs.shape:
            raise ValueError(f"{name} must have shape {tuple(logprobs.shape)}, got {tuple(x.shape)}")
    if beta > 0 and ref_logprobs is None:
        raise ValueError("ref_logprobs is required when beta > 0")

    mask = response_mask.bool()  # [N, T]
    log_ratio = torch.where(mask, logprobs - old_logprobs.detach(), 0)  # [N, T]
    ratio = log_ratio.exp()  # [N, T]
    adv = torch.where(mask, advantages.detach(), 0)  # [N, T]
    unclipped = ratio * adv  # [N, T]
    clipped = ratio.clamp(1 - eps_low, 1 + eps_high) * adv  # [N, T]
    surrogate = -torch.minimum(unclipped, clipped)  # [N, T]
    if is_weights is not None:
        surrogate = surrogate * torch.where(mask, is_weights.detach(), 0)  # [N, T]
    loss = aggregate(surrogate, mask, loss_agg, max_len)

    stats = {
        "clip_frac": _mean(clipped < unclipped, mask),
        "approx_kl": _mean(_k3(log_ratio), mask),
        "kl": 0.0,
        "ratio_mean": _mean(ratio, mask),
    }
    if ref_logprobs is not None:
        kl = _k3(torch.where(mask, ref_logprobs.detach() - logprobs, 0))  # [N, T]
        stats["kl"] = _mean(kl, mask)
        if beta > 0:
            loss = loss + beta * aggregate(kl, mask, loss_agg, max_len)
    if entropy is not None:
        stats["entropy"] = _mean(entropy, mask)
        if entropy_coef:
            loss = loss - entropy_coef * aggregate(entropy, mask, loss_agg, max_len)
    return loss, stats


def aggregate(values, mask, loss_agg, max_len=None):
    """Reduce per-token values [N, T] over the valid tokens of mask [N, T] to a scalar.

    seq_mean_token_mean: mean over each sequence's tokens, then over sequences with any valid token.
    token_mean: mean over all valid tokens of the batch (DAPO).
    seq_mean_token_sum_norm: each sequence's token sum / max_len, then mean over all N (Dr. GRPO).
    An empty mask gives 0.
    """
    _check_agg(loss_agg, max_len)
    if values.dim() != 2 or values.shape != mask.shape:
        raise ValueError(f"values and mask must both be [N, T], got {tuple(values.shape)} and {tuple(mask.shape)}")
    mask = mask.bool()  # [N, T]
    seq_sum = torch.where(mask, values, 0).sum(-1)  # [N]
    if loss_agg == "token_mean":
        return seq_sum.sum() / mask.sum().clamp_min(1)
    if loss_agg == "seq_mean_token_sum_norm":
        return seq_sum.sum() / (max_len * max(values.shape[0], 1))
    n_tok = mask.sum(-1)  # [N]
    return (seq_sum / n_tok.clamp_min(1)).sum() / (n_tok > 0).sum().clamp_min(1)


def _k3(log_r):
    """k3 KL estimator r - log r - 1 from log r (>= 0, unbiased, low variance)."""
    return log_r.exp() - log_r - 1


def _mean(values, mask):
    """Plain mean over valid tokens, as a float for logging."""
    return aggregate(values.detach().float(), mask, "token_mean").item()


def _check_agg(loss_agg, max_len):
    if loss_agg not in LOSS_AGGS:
        raise ValueError(f"loss_agg must be one of {LOSS_AGGS}, got {loss_agg!r}")
    if loss_agg == "seq_mean_token_sum_norm" and (max_len is None or max_len < 1):
        raise ValueError(f"max_len must be a positive int for seq_mean_token_sum_norm, got {max_len!r}")
