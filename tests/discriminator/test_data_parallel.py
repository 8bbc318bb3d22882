"""Data-parallel discriminator training (`train_discriminator` with `ranks`, rtt.data_parallel):
two gloo ranks on this CPU end with the single-process weights, step losses and held-out losses on
the same data, a rank with no pair in a micro-batch or a whole step included."""

from __future__ import annotations

import pytest
import torch

from rtt.data_parallel import Ranks
from rtt.discriminator.model import init_discriminator
from rtt.testing.data_parallel import run_driver
from rtt.testing.disc_parallel import SETTINGS, train_all


def test_two_gloo_ranks_train_the_weights_of_one_process(tiny_model_dir, tmp_path):
    two = run_driver("rtt.testing.disc_parallel", tiny_model_dir, tmp_path / "two.pt", 2)
    one = train_all(tiny_model_dir, str(tmp_path / "one.pt"), Ranks())
    torch.manual_seed(0)
    start = init_discriminator(tiny_model_dir, "cpu").state_dict()
    assert set(one) == set(SETTINGS) == set(two)
    for name in SETTINGS:
        a, b = one[name], two[name]
        step = max((a["weights"][k] - start[k]).abs().max().item() for k in start)
        apart = max((a["weights"][k] - b["weights"][k]).abs().max().item() for k in start)
        # The ranks sum the same per-token gradients in another order and in other packed rows (per
        # rank, then across ranks): float32 rounding, about 1e-7 of a gradient. AdamW divides each
        # gradient by its running size, so a weight whose gradient is near 0 keeps that relative
        # error in its update: measured 2e-7 to 3.4e-7 after 6-10 steps that move the weights by
        # 3.5e-3 to 5.5e-3. Without the gradient sum (each rank stepping on its own half) the
        # weights end 6.6e-3 and 8.4e-3 apart, over 6000 times this bound.
        assert step > 1e-3 and apart < 1e-6, (name, step, apart)
        assert b["losses"] == pytest.approx(a["losses"], rel=1e-6, abs=1e-7), name  # summed over ranks
        assert [(r["kind"], r["opt_step"], r["epoch"], r["n_tokens"]) for r in b["history"]] == [
            (r["kind"], r["opt_step"], r["epoch"], r["n_tokens"]) for r in a["history"]
        ], name  # every held-out token, gathered from both ranks
        assert [r["loss"] for r in b["history"]] == pytest.approx([r["loss"] for r in a["history"]], rel=1e-6)
        state = torch.load(tmp_path / f"state-{name}-2" / "state.pt", weights_only=True)
        assert len(state["torch_rngs"]) == 2 and not torch.equal(*state["torch_rngs"])  # rank 0 saved both
