"""Data-parallel GRPO updates (rtt.data_parallel): two gloo ranks on this CPU take the
single-process step on the same global batch; blocks keep groups whole."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from rtt.data_parallel import Ranks, block, concat_ranks
from rtt.models import load_causal_lm
from rtt.testing.data_parallel import SETTINGS, run_driver


@given(st.lists(st.integers(), max_size=30), st.integers(1, 6))
def test_blocks_are_contiguous_near_equal_and_cover_everything(items, world):
    blocks = [block(items, Ranks(r, world)) for r in range(world)]
    assert [x for b in blocks for x in b] == items
    assert max(map(len, blocks)) - min(map(len, blocks)) <= 1


def test_two_gloo_ranks_update_the_weights_as_one_process(tiny_model_dir, tmp_path):
    one = run_driver("rtt.testing.data_parallel", tiny_model_dir, tmp_path / "one.pt", 1)
    two = run_driver("rtt.testing.data_parallel", tiny_model_dir, tmp_path / "two.pt", 2)
    start = load_causal_lm(tiny_model_dir, torch.device("cpu")).state_dict()
    assert set(one) == set(SETTINGS) == set(two)
    for name in SETTINGS:
        a, b = one[name], two[name]
        assert (a["rows"], b["rows"]) == (15, 9)  # 5 groups of 3: rank 0 holds 3 groups, rank 1 two
        step = max((a["weights"][k] - start[k]).abs().max().item() for k in start)
        apart = max((a["weights"][k] - b["weights"][k]).abs().max().item() for k in start)
        # The ranks sum the same per-row gradients in another order (per rank, then across ranks):
        # float32 rounding, about 1e-7 of a gradient. AdamW's first steps move a weight by about lr =
        # 1e-3 whatever its gradient's size, so the weights agree to far below one step.
        assert step > 1e-3 and apart < 1e-6, (name, step, apart)
        for key in ("loss", "clip_frac", "grad_norm", "lr"):
            assert b["stats"][key] == pytest.approx(a["stats"][key], rel=1e-5, abs=1e-7), (name, key)


def test_concat_ranks_pads_items_and_tokens_with_unknown_and_masked():
    # rank 0: 2 responses, K=2 items, T=3 tokens; rank 1: 1 response, K=1, T=4
    a = (torch.tensor([1.0, 0.0]), torch.tensor([[1.0, -1.0], [1.0, 1.0]]), torch.ones(2, 3, dtype=torch.bool))
    b = (torch.tensor([0.5]), torch.tensor([[-1.0]]), torch.ones(1, 4, dtype=torch.bool))
    rewards, verdicts, mask = concat_ranks([a, b])
    assert rewards.tolist() == [1.0, 0.0, 0.5]
    assert verdicts.tolist() == [[1.0, -1.0], [1.0, 1.0], [-1.0, 0.0]]  # 0: unknown, counted nowhere
    assert mask.tolist() == [[True, True, True, False], [True, True, True, False], [True] * 4]
