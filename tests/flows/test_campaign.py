"""Campaigns as real Prefect flow runs (test harness): start, continue, refuse a second at once."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
from mlflow.tracking import MlflowClient

from rtt.campaigns import CampaignError, continuation, create, load, write_row
from rtt.data.items import load_prompts
from rtt.data.store import Store
from rtt.run_lock import RunLocked, lock_path
from rtt.tracking import tracking_uri

# gold relevance: no offline rollouts/judge/discriminator stages, so a round is GRPO + eval
FAST = ["grpo.relevance=gold", "rubrics.n_prompts=8"]


@pytest.fixture(scope="module")
def campaign(harness, tmp_path_factory):
    """A campaign started with 1 round and continued by 1 round: (root, rows)."""
    from flows.campaign import campaign_continue, campaign_start

    root = tmp_path_factory.mktemp("campaign")
    overrides = [f"data_dir={root / 'data'}", f"tracking_uri={root / 'mlflow'}", *FAST]
    rows = [campaign_start(campaign="c1", config="smoke", overrides=overrides, rounds=1)]
    rows.append(campaign_continue(campaign="c1", rounds=1, data_dir=str(root / "data")))
    return root, rows


def test_each_continuation_starts_from_the_last_checkpoint(campaign):
    root, rows = campaign
    assert [(r["continuation"], r["first_round"], r["last_round"], r["status"]) for r in rows] == [
        (0, 0, 0, "completed"),
        (1, 1, 1, "completed"),
    ]
    assert rows[0]["start_policy"].endswith("models/tiny")
    assert rows[1]["start_policy"] == rows[0]["final_policy"] != rows[1]["final_policy"]
    assert Store(root / "data").rows("campaigns", "c1") == sorted(rows, key=lambda r: r["continuation"])


def test_steps_keep_counting_and_prompts_are_new_until_the_pool_cycles(campaign):
    root, rows = campaign
    store = Store(root / "data")
    steps = sorted(store.rows("train_steps", "c1"), key=lambda r: (r["round"], r["step"]))
    # smoke: 2 GRPO steps per round, 2 prompts per step; 8 prompts, 6 of them for training
    assert [s["global_step"] for s in steps] == [0, 1, 2, 3]
    assert [(r["first_step"], r["last_step"]) for r in rows] == [(0, 1), (2, 3)]
    order = [p["prompt_id"] for p in load_prompts(store, "c1", "train")]
    assert len(order) == rows[-1]["pool_size"] == 6
    drawn: dict[int, set] = {}
    for r in store.rows("rollouts", "c1"):
        drawn.setdefault(r["round"] * 2 + r["step"], set()).add(r["prompt_id"])
    # 8 draws: the whole pool once in order, then it cycles from the start
    cursor = order + order[:2]
    assert [drawn[g] for g in range(4)] == [set(cursor[2 * g : 2 * g + 2]) for g in range(4)]
    assert [r["prompts_drawn"] for r in rows] == [4, 8]


def test_the_report_curves_run_on_across_continuations(campaign):
    import matplotlib.pyplot as plt

    from rtt.report import figures, load_report

    root, _ = campaign
    reward = figures(load_report(Store(root / "data"), ["c1"]))[0]
    assert [list(line.get_xdata()) for line in reward.lines("data")] == [[0, 1, 2, 3]] * 2
    assert [list(line.get_xdata()) for line in reward.lines("round")] == [[1.5, 1.5]]
    plt.close(reward.fig)


def test_every_round_is_evaluated_on_the_same_heldout_prompts(campaign):
    root, _ = campaign
    store = Store(root / "data")
    by_round: dict[int, set] = {}
    for g in store.rows("generations", "c1"):
        by_round.setdefault(g["round"], set()).add(g["prompt_id"])
    assert sorted(by_round) == [-1, 0, 1]
    assert len({frozenset(p) for p in by_round.values()}) == 1
    assert by_round[0] == {p["prompt_id"] for p in store.rows("prompts", "c1") if p["split"] == "eval"}


def test_each_continuation_is_an_mlflow_parent_run(campaign):
    root, _ = campaign
    client = MlflowClient(tracking_uri(str(root / "mlflow"))[0])
    experiment = client.get_experiment_by_name("rtt")
    runs = client.search_runs([experiment.experiment_id], "tags.`rtt.stage` = 'pipeline'")
    assert sorted((r.data.tags["rtt.continuation"], r.info.status) for r in runs) == [
        ("0", "FINISHED"),
        ("1", "FINISHED"),
    ]
    assert {r.data.tags["rtt.campaign"] for r in runs} == {"c1"}


def test_a_second_continuation_at_once_is_refused_or_waits(campaign):
    root, rows = campaign
    c = load("c1", root / "data")
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import fcntl, sys, time; f = open(sys.argv[1], 'a'); "
            "fcntl.flock(f, fcntl.LOCK_EX); print('held', flush=True); time.sleep(float(sys.argv[2]))",
            str(lock_path(root / "data", "c1")),
            "3",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(RunLocked, match="already running"):
            with continuation(c, 1):
                pass
        start = time.monotonic()
        with continuation(c, 1, wait_s=60) as run:  # waits for the holder, then decides its rounds
            assert time.monotonic() - start > 0.5
            assert run.first_round == 2 and run.row["start_policy"] == rows[-1]["final_policy"]
            raise KeyboardInterrupt  # stop before training: recorded as interrupted
    except KeyboardInterrupt:
        pass
    finally:
        holder.kill()
    assert Store(root / "data").rows("campaigns", "c1", "continuation2")[0]["status"] == "interrupted"


def test_a_continuation_left_running_by_a_dead_process_is_marked_killed(campaign):
    root, _ = campaign
    store = Store(root / "data")
    dead = {**store.rows("campaigns", "c1", "continuation0")[0], "continuation": 9, "status": "running"}
    write_row(store, dead)
    try:
        with continuation(load("c1", root / "data"), 1):
            raise RuntimeError("stop before training")
    except RuntimeError:
        pass
    assert store.rows("campaigns", "c1", "continuation9")[0]["status"] == "killed"
    store.write("campaigns", [], "c1", "continuation9")  # leave the campaign as the other tests expect


def test_names_and_existing_campaigns_are_checked(campaign, tmp_path):
    root, _ = campaign
    with pytest.raises(CampaignError, match="exists"):
        create("c1", "smoke", [f"data_dir={root / 'data'}"])
    with pytest.raises(CampaignError, match="must match"):
        create("no spaces", "smoke", [f"data_dir={tmp_path}"])
    with pytest.raises(CampaignError, match="no campaign 'c2'"):
        load("c2", root / "data")
