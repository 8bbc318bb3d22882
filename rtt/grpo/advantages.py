"""Rubric rewards and RTT-GRPO advantages (METHOD.md sections 2-5 and 10).

- `response_rewards`: the response reward R_i from item verdicts (section 2).
- `response_advantages`: the GRPO group advantage A_res (section 2).
- `token_advantages`: the token reward r = s * w (section 3), normalized by one of the four partitions
  of the 3-D reward (section 4); `intra_sample`, the paper's method, is the default.
- `combine_advantages`: the RTT-GRPO advantage A(i, t) (section 5).

Glossary: B prompts, G group size (responses per prompt), N = B * G responses ordered so that the G
responses of one prompt are consecutive, K rubric items (padded to the batch maximum), T response
tokens (padded). Verdicts: +1 satisfied, -1 violated, 0 unknown or padding.

Departures from the paper's reference code, and choices METHOD.md leaves open:
- The reference code turns [G, K, T] into [K, G, T] with a reshape instead of a transpose, which mixes
  different responses' rows when K > 1 (section 10). This code never reorders dimensions: [N, K, T]
  is only *viewed* as [B, G, K, T] and every statistic is a masked reduction over named dims, so a
  row is always read under its own (response, item) index.
- Unknown verdicts and padded items are masked out of every mean, std and softmax. A response with
  no known item, or with fewer than 2 valid tokens, gets A_tok = 0, and its tokens are also left out
  of the group-pooled statistics (inter_sample, rubric_mean_group).
- rubric_mean_group: rbar_{i,t} = (sum over known k of r_{i,k,t}) / (# known items of response i).
- response_softmax: the per-item GRPO advantage a_{i,k} uses the responses of the group whose verdict
  on item k is known (all of them, as A_res does); the softmax over k runs over known items only.
- Advantages are constants of the loss: both advantage functions run under torch.no_grad().
- Any slice whose values are all equal (one value, none, equal rewards, a constant relevance row)
  normalizes to exactly 0, so such cases never give NaN nor round-off noise divided by eps.
"""

import torch

REWARD_MODES = ("all_or_nothing", "satisfaction_rate", "weighted")
SCALES = ("group", "batch", "none")
TOKEN_NORMS = ("intra_sample", "inter_sample", "rubric_mean_group", "response_softmax")
COMBINE_METHODS = ("add", "mix")


def response_rewards(verdicts, mode, item_weights=None):
    """Response reward R_i in [0, 1] (section 2); a response with no known item gets 0.

    verdicts: [N, K] in {+1, -1, 0}. mode: all_or_nothing, satisfaction_rate or weighted.
    item_weights: [N, K] non-negative item weights omega_k for mode "weighted" (default ones).
    """
    _check_choice("mode", mode, REWARD_MODES)
    _check_verdicts(verdicts)
    if item_weights is None:
        item_weights = torch.ones(verdicts.shape)  # [N, K]
    if item_weights.shape != verdicts.shape or (item_weights < 0).any():
        raise ValueError(f"item_weights must be non-negative with shape {tuple(verdicts.shape)}")
    known = verdicts != 0  # [N, K]
    if mode == "all_or_nothing":
        return (known.any(-1) & ~(verdicts == -1).any(-1)).float()  # [N]
    weight = known * (item_weights if mode == "weighted" else 1.0)  # [N, K]
    total = weight.sum(-1)  # [N]
    return (weight * (verdicts == 1)).sum(-1) / torch.where(total > 0, total, 1)  # [N]


@torch.no_grad()
def response_advantages(rewards, group_size, scale="group", eps=1e-6):
    """GRPO advantage A_res(i) = (R_i - mean_G R) / (std R + eps), unbiased std (section 2).

    rewards: [N]. scale: "group" (std of the group), "batch" (std of all N rewards; the numerator
    stays group-centred) or "none" (Dr. GRPO, no division). A group of equal rewards, or of size 1,
    gets 0. Returns [N].
    """
    _check_choice("scale", scale, SCALES)
    if rewards.dim() != 1:
        raise ValueError(f"rewards must be [N], got shape {tuple(rewards.shape)}")
    B, G = _groups(rewards.shape[0], group_size)
    r = rewards.to(torch.promote_types(rewards.dtype, torch.float32)).view(B, G)  # [B, G]
    everyone = torch.ones_like(r, dtype=torch.bool)  # [B, G]
    centred = _centre(r, everyone, 1)  # [B, G], exactly 0 in a group of equal rewards
    if scale == "group":
        centred = centred / (_std(centred, everyone, 1, correction=1) + eps)  # std [B, 1]
    elif scale == "batch":
        batch_std = _std(_centre(r, everyone, (0, 1)), everyone, (0, 1), correction=1)  # [1, 1]
        centred = centred / (batch_std + eps)
    return centred.view(-1)  # [N]


@torch.no_grad()
def token_advantages(verdicts, relevance, response_mask, group_size, norm="intra_sample", eps=1e-6):
    """Token advantage A_tok(i, t) from r_{i,k,t} = s_{i,k} * w_{i,k,t} (sections 3-4).

    verdicts: [N, K] in {+1, -1, 0}. relevance: [N, K, T] in [0, 1]. response_mask: [N, T] bool.
    norm: intra_sample | inter_sample | rubric_mean_group | response_softmax (section 4).
    Returns [N, T], 0 on padding and for responses with no known item or fewer than 2 valid tokens.
    """
    _check_choice("norm", norm, TOKEN_NORMS)
    _check_verdicts(verdicts)
    N, K = verdicts.shape
    if relevance.dim() != 3 or relevance.shape[:2] != verdicts.shape:
        raise ValueError(
            f"relevance must be [N, K, T] with [N, K] = {tuple(verdicts.shape)}, got {tuple(relevance.shape)}"
        )
    if relevance.numel() and not (relevance.min() >= 0 and relevance.max() <= 1):
        raise ValueError("relevance must lie in [0, 1]")
    T = relevance.shape[-1]
    mask = _check_mask(response_mask, (N, T))  # [N, T]
    B, G = _groups(N, group_size)

    w = relevance.to(torch.promote_types(relevance.dtype, torch.float32))  # [N, K, T]
    s = verdicts.to(w.dtype)  # [N, K]
    known = verdicts != 0  # [N, K]
    n_known = known.sum(1, keepdim=True).clamp_min(1)  # [N, 1]
    eligible = known.any(1) & (mask.sum(1) >= 2)  # [N] responses that get a token advantage
    tok = mask & eligible[:, None]  # [N, T]
    cell = known[:, :, None] & tok[:, None, :]  # [N, K, T] known item x valid token
    r = s[:, :, None] * w  # [N, K, T] token reward, read only under `cell`

    if norm == "intra_sample":  # z-score each (i, k) row over its own tokens
        adv = _zscore(r, cell, -1, eps).sum(1) / n_known  # [N, T]
    elif norm == "inter_sample":  # z-score each (prompt, item) over the group's G x T tokens
        z = _zscore(r.view(B, G, K, T), cell.view(B, G, K, T), (1, 3), eps)  # [B, G, K, T]
        adv = z.view(N, K, T).sum(1) / n_known  # [N, T]
    elif norm == "rubric_mean_group":  # mean over known items, then z-score over the group's tokens
        rbar = (r * known[:, :, None]).sum(1) / n_known  # [N, T]
        adv = _zscore(rbar.view(B, G, T), tok.view(B, G, T), (1, 2), eps).view(N, T)  # [N, T]
    else:  # response_softmax: per-item GRPO advantage shared out by a softmax of relevance over items
        a = _zscore(s.view(B, G, K), known.view(B, G, K), 1, eps, correction=1).view(N, K)  # [N, K]
        e = w.exp().mul_(known[:, :, None])  # [N, K, T]; exp(w) >= 1 on known items
        share = e.div_(e.sum(1, keepdim=True).clamp_min(1))  # [N, K, T] softmax over known k (0 if none)
        adv = share.mul_(a[:, :, None]).sum(1)  # [N, T]
    return adv.masked_fill_(~tok, 0)  # [N, T]


def combine_advantages(response_adv, token_adv, response_mask, method="add", weight=0.5):
    """RTT-GRPO advantage (section 5): "add" A_res + w A_tok, "mix" (1 - w) A_res + w A_tok.

    response_adv: [N]. token_adv: [N, T]. response_mask: [N, T]. Returns [N, T], 0 on padding.
    """
    _check_choice("method", method, COMBINE_METHODS)
    if token_adv.dim() != 2 or response_adv.shape != token_adv.shape[:1]:
        raise ValueError(
            f"token_adv must be [N, T] and response_adv [N], "
            f"got {tuple(token_adv.shape)} and {tuple(response_adv.shape)}"
        )
    mask = _check_mask(response_mask, token_adv.shape)  # [N, T]
    keep = 1.0 if method == "add" else 1.0 - weight
    adv = keep * response_adv[:, None] + weight * token_adv  # [N, T]
    return adv.masked_fill(~mask, 0)  # [N, T]


def _centre(x, mask, dims):
    """x minus its mean over the entries of mask along dims, 0 off mask (a new tensor).

    x is first shifted by one of its own entries (the slice max), so an all-equal slice centres to
    exact zeros: it then normalizes to exactly 0, never to round-off noise divided by eps.
    """
    pad = ~mask
    top = x.masked_fill(pad, -torch.inf).amax(dims, keepdim=True)  # -inf on an empty slice
    shifted = (x - top).masked_fill_(pad, 0)
    mean = shifted.sum(dims, keepdim=True) / mask.sum(dims, keepdim=True).clamp_min(1)
    return shifted.sub_(mean).masked_fill_(pad, 0)


def _std(centred, mask, dims, correction=0):
    """Std over mask along dims (keepdim) of values centred by `_centre`; 0 for fewer than 2 entries."""
    n = mask.sum(dims, keepdim=True).to(centred.dtype)
    return torch.linalg.vector_norm(centred, dim=dims, keepdim=True) / (n - correction).clamp_min(1).sqrt()


def _zscore(x, mask, dims, eps, correction=0):
    """(x - mean) / (std + eps) over mask along dims; 0 off mask and on all-equal slices."""
    centred = _centre(x, mask, dims)
    return centred.div_(_std(centred, mask, dims, correction) + eps)


def _groups(n, group_size):
    if not isinstance(group_size, int) or group_size < 1 or n % group_size:
        raise ValueError(f"group_size must be a positive divisor of N = {n}, got {group_size!r}")
    return n // group_size, group_size


def _check_choice(name, value, options):
    if value not in options:
        raise ValueError(f"{name} must be one of {options}, got {value!r}")


def _check_verdicts(verdicts):
    if verdicts.dim() != 2:
        raise ValueError(f"verdicts must be [N, K], got shape {tuple(verdicts.shape)}")
    if not ((verdicts == 1) | (verdicts == 0) | (verdicts == -1)).all():
        raise ValueError("verdicts must hold only +1, -1 and 0")


def _check_mask(response_mask, shape):
    if response_mask.shape != shape:
        raise ValueError(f"response_mask must have shape {tuple(shape)}, got {tuple(response_mask.shape)}")
    if response_mask.dtype != torch.bool and not ((response_mask == 0) | (response_mask == 1)).all():
        raise ValueError("response_mask must be bool or hold only 0 and 1")
    return response_mask.bool()
