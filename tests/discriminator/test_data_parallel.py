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


def test_two_ranks_killed_in_a_state_save_resume_to_the_unbroken_weights(tiny_model_dir, tmp_path):
    """Rank 0 SIGKILLed in its 2nd training-state save (files written, not swapped in; torchrun then
    stops rank 1): the rerun resumes from the 1st save, every rank's RNG restored, and ends with the
    weights and held-out history of two unbroken ranks, to the bit."""
    driver = "rtt.testing.disc_parallel"
    (tmp_path / "unbroken").mkdir()
    (tmp_path / "killed").mkdir()
    unbroken = run_driver(driver, tiny_model_dir, tmp_path / "unbroken" / "two.pt", 2)
    assert run_driver(driver, tiny_model_dir, tmp_path / "killed" / "two.pt", 2, crash_at="checkpoint.save:2") is None
    resumed = run_driver(driver, tiny_model_dir, tmp_path / "killed" / "two.pt", 2)
    for name in SETTINGS:
        a, b = unbroken[name], resumed[name]
        assert all(torch.equal(a["weights"][k], b["weights"][k]) for k in a["weights"]), name
        assert b["history"] == a["history"], name
    first = next(iter(SETTINGS))  # the one the kill landed in (3 epochs: a save at the end of each)
    assert len(resumed[first]["losses"]) < len(unbroken[first]["losses"])  # it resumed, not restarted
