"""rtt.grpo.mismatch: the sampler/trainer logprob gap and truncated importance sampling, by hand."""

import math

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from rtt.grpo.loss import policy_loss
from rtt.grpo.mismatch import logprob_gap, pad_logprobs, tis_weights

# One response, 3 valid tokens and one padding position; log r = log pi_old - log pi_sampler = [0.1, -0.5, 1.0].
TRAINER = torch.tensor([[-1.0, -2.0, -0.5, 7.0]])
SAMPLER = torch.tensor([[-1.1, -1.5, -1.5, -9.0]])
MASK = torch.tensor([[True, True, True, False]])


def test_logprob_gap_hand_worked():
    # |log r| = .1, .5, 1.0: mean .5333, max 1.0. k3 = r - log r - 1: e^.1 - 1.1 = .005171,
    # e^-.5 - .5 = .106531, e^1 - 2 = .718282; mean .276661. The padding position (log r = 16) is ignored.
    gap = logprob_gap(TRAINER, SAMPLER, MASK)
    assert gap["logprob_gap_abs"] == pytest.approx(0.53333, abs=1e-5)
    assert gap["logprob_gap_max"] == pytest.approx(1.0, abs=1e-6)
    assert gap["logprob_gap_kl"] == pytest.approx(0.276661, abs=1e-5)


def test_logprob_gap_of_agreeing_or_empty_inputs_is_zero():
    assert logprob_gap(TRAINER, TRAINER, MASK) == {
        "logprob_gap_abs": 0.0,
        "logprob_gap_max": 0.0,
        "logprob_gap_kl": 0.0,
    }
    assert logprob_gap(TRAINER, SAMPLER, torch.zeros_like(MASK))["logprob_gap_kl"] == 0.0


def test_tis_weights_hand_worked():
    # r = e^.1 = 1.10517, e^-.5 = .60653, e^1 = 2.71828 -> capped at 1.2; padding gets 1.
    w = tis_weights(TRAINER, SAMPLER, MASK, cap=1.2)
    assert w[0].tolist() == pytest.approx([1.10517, 0.60653, 1.2, 1.0], abs=1e-5)
    with pytest.raises(ValueError, match="cap"):
        tis_weights(TRAINER, SAMPLER, MASK, cap=0)


@given(st.lists(st.floats(-5, 5), min_size=1, max_size=16), st.floats(1.0, 10.0))
def test_tis_weights_are_the_ratio_capped(log_r, cap):
    log_r = torch.tensor([log_r])  # [1, T]
    w = tis_weights(log_r, torch.zeros_like(log_r), torch.ones_like(log_r, dtype=torch.bool), cap)
    assert (w <= cap + 1e-6).all() and (w > 0).all()
    below = log_r.exp() < cap
    assert torch.allclose(w[below], log_r.exp()[below])


def test_policy_loss_with_is_weights_hand_worked():
    # Two tokens, ratio 1 (logp = old), A = [2, -1]: surrogate -min(rho A, clip(rho) A) = [-2, 1].
    # Weights [.5, 1.2] -> [-1, 1.2]; seq_mean_token_mean = .1 (unweighted: -.5).
    # d loss / d logp_0 = -A_0 w_0 rho_0 / 2 = -.5; d / d logp_1 = -A_1 w_1 / 2 = .6.
    logp = torch.zeros(1, 2, requires_grad=True)
    adv, mask, weights = torch.tensor([[2.0, -1.0]]), torch.ones(1, 2, dtype=torch.bool), torch.tensor([[0.5, 1.2]])
    loss, _ = policy_loss(logp, torch.zeros(1, 2), adv, mask, is_weights=weights)
    assert float(loss.detach()) == pytest.approx(0.1)
    loss.backward()
    assert logp.grad[0].tolist() == pytest.approx([-0.5, 0.6])
    plain, _ = policy_loss(torch.zeros(1, 2), torch.zeros(1, 2), adv, mask)
    assert float(plain) == pytest.approx(-0.5)


def test_is_weights_leave_the_kl_term_alone():
    # beta KL(policy || ref) is added unweighted: with weights 0 only the KL term is left.
    logp, ref = torch.zeros(1, 2), torch.tensor([[math.log(2), 0.0]])  # k3 at log ratio ln 2: 2 - ln 2 - 1 = .30685
    loss, _ = policy_loss(
        logp,
        logp,
        torch.ones(1, 2),
        torch.ones(1, 2, dtype=torch.bool),
        ref_logprobs=ref,
        beta=1.0,
        is_weights=torch.zeros(1, 2),
    )
    assert float(loss) == pytest.approx(0.30685 / 2, abs=1e-5)


def test_pad_logprobs():
    assert pad_logprobs([[-1.0, -2.0], [-3.0]], 3).tolist() == [[-1.0, -2.0, 0.0], [-3.0, 0.0, 0.0]]


def test_kl_of_a_tiny_gap_is_not_negative():
    # k3 = e^x - x - 1 >= 0; in float32 a 1e-6 gap rounded to about -1e-10 (seen on SmolLM2): computed in float64.
    trainer = torch.randn(8, 64, generator=torch.Generator().manual_seed(0))
    sampler = trainer + 1e-6 * torch.randn(8, 64, generator=torch.Generator().manual_seed(1))
    assert logprob_gap(trainer, sampler, torch.ones(8, 64, dtype=torch.bool))["logprob_gap_kl"] >= 0
