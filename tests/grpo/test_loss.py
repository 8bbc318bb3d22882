"""Tests for rtt.grpo.loss: hand-worked PPO-clip numbers, aggregations, KL, entropy, gradients."""

import math

import pytest
import torch

from rtt.grpo.loss import aggregate, policy_loss

close = torch.testing.assert_close

# One sequence of 5 tokens, old logp = 0 so rho = exp(logp); eps_low 0.2, eps_high 0.27 -> [0.8, 1.27].
#   rho  A   rho*A  clip*A  L = -min            clipped branch active?
#   1.5  +1   1.5   1.27    -1.27               yes
#   0.5  +1   0.5   0.8     -0.5                no (below the range, A > 0: unclipped is smaller)
#   1.1  -1  -1.1  -1.1      1.1                no (inside the range)
#   0.7  -1  -0.7  -0.8      0.8                yes
#   1.5  -1  -1.5  -1.27     1.5                no (above the range, A < 0: unclipped is smaller)
RHO = torch.tensor([[1.5, 0.5, 1.1, 0.7, 1.5]])
ADV = torch.tensor([[1.0, 1, -1, -1, -1]])
LOSSES = torch.tensor([[-1.27, -0.5, 1.1, 0.8, 1.5]])
MASK = torch.ones(1, 5, dtype=torch.bool)


def test_clipped_and_unclipped_tokens():
    loss, stats = policy_loss(RHO.log(), torch.zeros(1, 5), ADV, MASK)
    close(loss, torch.tensor(1.63 / 5))  # (-1.27 - 0.5 + 1.1 + 0.8 + 1.5) / 5
    assert stats["clip_frac"] == pytest.approx(2 / 5)
    assert stats["ratio_mean"] == pytest.approx(5.3 / 5)
    assert stats["kl"] == 0.0 and "entropy" not in stats
    # approx_kl: mean of rho - log rho - 1
    assert stats["approx_kl"] == pytest.approx(sum(r - math.log(r) - 1 for r in RHO[0].tolist()) / 5, rel=1e-5)


def test_symmetric_clip_range():
    # With eps_high = 0.2 the first token clips at 1.2 instead of 1.27.
    loss, _ = policy_loss(RHO.log(), torch.zeros(1, 5), ADV, MASK, eps_low=0.2, eps_high=0.2)
    close(loss, torch.tensor((-1.2 - 0.5 + 1.1 + 0.8 + 1.5) / 5))


def test_gradient_only_through_logprobs():
    logprobs = RHO.log().requires_grad_()
    old = torch.zeros(1, 5, requires_grad=True)
    adv = ADV.clone().requires_grad_()
    ref = torch.full((1, 5), -0.3, requires_grad=True)
    loss, _ = policy_loss(logprobs, old, adv, MASK, ref_logprobs=ref, beta=0.1)
    loss.backward()
    assert old.grad is None and adv.grad is None and ref.grad is None
    # PPO part: dL/dlogp = -rho * A / 5 on unclipped tokens, 0 on clipped ones.
    # KL part: d/dlogp of beta * (e^(ref - logp) - (ref - logp) - 1) / 5 = beta * (1 - e^(ref - logp)) / 5.
    ppo = torch.tensor([[0.0, -0.5, 1.1, 0.0, 1.5]]) / 5
    kl = 0.1 * (1 - torch.exp(-0.3 - RHO.log())) / 5
    close(logprobs.grad, ppo + kl)


def test_aggregations():
    # Sequence 0: [1, 2, 3]; sequence 1: [4] (2 padding); sequence 2: all padding (9s ignored).
    values = torch.tensor([[1.0, 2, 3], [4, 8, 8], [9, 9, 9]])
    mask = torch.tensor([[1, 1, 1], [1, 0, 0], [0, 0, 0]], dtype=torch.bool)
    # seq_mean_token_mean: (mean[1,2,3] = 2, mean[4] = 4) over the 2 non-empty sequences = 3.
    close(aggregate(values, mask, "seq_mean_token_mean"), torch.tensor(3.0))
    # token_mean: (1 + 2 + 3 + 4) / 4 = 2.5.
    close(aggregate(values, mask, "token_mean"), torch.tensor(2.5))
    # seq_mean_token_sum_norm, max_len 4: (6/4 + 4/4 + 0) / 3 sequences = 2.5 / 3.
    close(aggregate(values, mask, "seq_mean_token_sum_norm", max_len=4), torch.tensor(2.5 / 3))
    assert aggregate(values, torch.zeros_like(mask), "seq_mean_token_mean") == 0


@pytest.mark.parametrize(
    "loss_agg,want",
    [
        # per-token L of RHO/ADV; the second sequence keeps tokens 0-1 only: [-1.27, -0.5].
        ("seq_mean_token_mean", (1.63 / 5 + (-1.77) / 2) / 2),
        ("token_mean", (1.63 - 1.77) / 7),
        ("seq_mean_token_sum_norm", (1.63 / 8 - 1.77 / 8) / 2),
    ],
)
def test_policy_loss_aggregations(loss_agg, want):
    logprobs = RHO.log().repeat(2, 1)
    old = torch.zeros(2, 5)
    # Garbage (-inf log-prob, NaN advantage) on padding must not leak into the loss.
    logprobs[1, 2:] = -torch.inf
    adv = ADV.repeat(2, 1)
    adv[1, 2:] = torch.nan
    mask = torch.tensor([[1, 1, 1, 1, 1], [1, 1, 0, 0, 0]], dtype=torch.bool)
    loss, stats = policy_loss(logprobs, old, adv, mask, loss_agg=loss_agg, max_len=8)
    close(loss, torch.tensor(want))
    assert stats["clip_frac"] == pytest.approx(3 / 7)


def test_kl_to_reference():
    logprobs = torch.tensor([[-1.0, -2.0]])
    # ref == logp: k3 = 0, and beta changes nothing.
    base, _ = policy_loss(logprobs, logprobs, torch.ones(1, 2), torch.ones(1, 2, dtype=torch.bool))
    loss, stats = policy_loss(
        logprobs,
        logprobs,
        torch.ones(1, 2),
        torch.ones(1, 2, dtype=torch.bool),
        ref_logprobs=logprobs.clone(),
        beta=0.5,
    )
    assert stats["kl"] == 0.0
    close(loss, base)
    # ref - logp = log 2 on both tokens: k3 = 2 - log 2 - 1 = 0.306853; loss adds beta * k3.
    ref = logprobs + math.log(2)
    loss, stats = policy_loss(
        logprobs, logprobs, torch.ones(1, 2), torch.ones(1, 2, dtype=torch.bool), ref_logprobs=ref, beta=0.5
    )
    k3 = 1 - math.log(2)
    assert stats["kl"] == pytest.approx(k3)
    close(loss, base + 0.5 * k3)


def test_entropy_bonus():
    # rho = 1, A = 1 -> L = -1 per token; entropy [0.5, 1.5] has mean 1; coef 0.1 -> -1 - 0.1.
    entropy = torch.tensor([[0.5, 1.5]], requires_grad=True)
    zeros, ones = torch.zeros(1, 2), torch.ones(1, 2)
    loss, stats = policy_loss(zeros, zeros, ones, ones.bool(), entropy=entropy, entropy_coef=0.1)
    close(loss, torch.tensor(-1.1))
    assert stats["entropy"] == pytest.approx(1.0)


def test_invalid_inputs_name_the_argument():
    x, m = torch.zeros(2, 3), torch.ones(2, 3, dtype=torch.bool)
    with pytest.raises(ValueError, match="loss_agg"):
        policy_loss(x, x, x, m, loss_agg="sum")
    with pytest.raises(ValueError, match="max_len"):
        policy_loss(x, x, x, m, loss_agg="seq_mean_token_sum_norm")
    with pytest.raises(ValueError, match="old_logprobs"):
        policy_loss(x, x[:, :2], x, m)
    with pytest.raises(ValueError, match="response_mask"):
        policy_loss(x, x, x, m[:1])
    with pytest.raises(ValueError, match="ref_logprobs"):
        policy_loss(x, x, x, m, beta=0.1)
