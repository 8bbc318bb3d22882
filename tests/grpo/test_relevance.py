import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from rtt.grpo.advantages import token_advantages
from rtt.grpo.relevance import gate, relevance, valid_mask

ITEMS = [["a", "b"], ["c"]]  # response 0 has 2 items, response 1 has 1
RESPONSES = [[5, 6, 7], [8, 9]]


def gold():
    g = torch.zeros(2, 2, 3)  # [N, K, T]
    g[0, 0, 1] = g[0, 1, 2] = g[1, 0, 0] = 1
    g[1, 1, 2] = 1  # padding (item 1 of response 1, token 2): must be dropped
    return g


def test_valid_mask_hand_worked():
    assert valid_mask([2, 1], [3, 2], 2, 3).int().tolist() == [[[1, 1, 1], [1, 1, 1]], [[1, 1, 0], [0, 0, 0]]]


@pytest.mark.parametrize("source", ["gold", "uniform", "random"])
def test_sources_are_zero_off_the_valid_cells_and_in_range(source):
    rel = relevance(
        source, gold=gold(), item_texts=ITEMS, responses=RESPONSES, generator=torch.Generator().manual_seed(0)
    )
    valid = valid_mask([2, 1], [3, 2], 2, 3)
    assert rel.shape == (2, 2, 3) and (rel[~valid] == 0).all() and ((rel >= 0) & (rel <= 1)).all()


def test_gold_and_uniform_values():
    rel = relevance("gold", gold=gold(), item_texts=ITEMS, responses=RESPONSES)
    assert rel[0].tolist() == [[0, 1, 0], [0, 0, 1]] and rel[1].tolist() == [[1, 0, 0], [0, 0, 0]]
    assert relevance("uniform", gold=gold(), item_texts=ITEMS, responses=RESPONSES)[1, 0].tolist() == [1, 1, 0]


def test_unknown_source():
    with pytest.raises(ValueError, match="relevance source"):
        relevance("oracle", gold=gold(), item_texts=ITEMS, responses=RESPONSES)


def test_gate_hand_worked_a_noise_row_stops_steering_the_tokens():
    # One response, 3 tokens, two items: item 0 violated, the discriminator sure of token 0;
    # item 1 satisfied with no responsible token (gold: all zeros), scores small noise.
    verdicts = torch.tensor([[-1, 1]])  # [N=1, K=2]
    rel = torch.tensor([[[0.9, 0.1, 0.05], [0.02, 0.04, 0.03]]])  # [1, 2, 3]
    mask = torch.ones(1, 3, dtype=torch.bool)
    # Ungated, item 1's row r = [.02, .04, .03]: mean .03, population std .00816, z = [-1.22, 1.22, 0],
    # as large as item 0's z = [-1.41, .64, .77] (r = -[.9, .1, .05]: mean -.35, std .3894).
    # A_tok = mean of the two rows = [-1.318, .933, .385]: token 1, relevant to nothing, gets the most credit.
    raw = token_advantages(verdicts, rel, mask, group_size=1)
    assert raw[0].tolist() == pytest.approx([-1.3185, 0.9333, 0.3852], abs=1e-3)
    # Gated at 0.5: item 1's row is all 0 (constant: contributes 0); item 0's is -[.9, 0, 0]: mean -.3,
    # std sqrt(.18) = .4243, z = [-1.414, .707, .707]; A_tok = (z + 0) / 2 = [-.7071, .3536, .3536].
    gated = token_advantages(verdicts, gate(rel, 0.5), mask, group_size=1)
    assert gated[0].tolist() == pytest.approx([-0.7071, 0.3536, 0.3536], abs=1e-4)


@given(st.lists(st.floats(0, 1), min_size=1, max_size=24), st.floats(0, 1))
def test_gate_keeps_scores_at_or_above_and_zeroes_the_rest(scores, threshold):
    rel = torch.tensor(scores)
    out = gate(rel, threshold)
    assert torch.equal(out[rel >= threshold], rel[rel >= threshold]) and (out[rel < threshold] == 0).all()
    assert gate(rel, 0.0) is rel  # 0: the paper's method, untouched


@given(st.lists(st.sampled_from([0.0, 1.0]), min_size=1, max_size=24), st.floats(1e-6, 1))
def test_gate_leaves_gold_labels_alone(labels, threshold):
    rel = torch.tensor(labels)
    assert torch.equal(gate(rel, threshold), rel)


@pytest.mark.parametrize("threshold", [-0.1, 1.5])
def test_gate_rejects_a_threshold_outside_0_1(threshold):
    with pytest.raises(ValueError, match="threshold"):
        gate(torch.zeros(2), threshold)
