import pytest
import torch

from rtt.grpo.relevance import relevance, valid_mask

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
    rel = relevance(source, gold=gold(), item_texts=ITEMS, responses=RESPONSES, generator=torch.Generator().manual_seed(0))
    valid = valid_mask([2, 1], [3, 2], 2, 3)
    assert rel.shape == (2, 2, 3) and (rel[~valid] == 0).all() and ((rel >= 0) & (rel <= 1)).all()


def test_gold_and_uniform_values():
    rel = relevance("gold", gold=gold(), item_texts=ITEMS, responses=RESPONSES)
    assert rel[0].tolist() == [[0, 1, 0], [0, 0, 1]] and rel[1].tolist() == [[1, 0, 0], [0, 0, 0]]
    assert relevance("uniform", gold=gold(), item_texts=ITEMS, responses=RESPONSES)[1, 0].tolist() == [1, 1, 0]


def test_unknown_source():
    with pytest.raises(ValueError, match="relevance source"):
        relevance("oracle", gold=gold(), item_texts=ITEMS, responses=RESPONSES)
