"""Campaigns: a named, long-lived series of rounds, extended by each continuation.

A campaign is one rtt run whose run id is the campaign's name. `rtt campaign start` records its
preset and overrides (`runs/<name>/campaign.json`) and runs its first rounds; each
`rtt campaign continue NAME --rounds R` raises the run's `rounds` by R and runs the pipeline on it
again (only `rounds` may change when a run is resumed: `rtt.runs.RESUMABLE_CHANGES`). So a
continuation, by construction of the pipeline:
- starts from the campaign's latest policy and discriminator checkpoints (round r starts from
  round r-1's, `rtt.checkpoints`);
- draws training prompts the campaign has not used yet: GRPO's prompt cursor is the global step,
  and past the end of the pool it cycles (`prompts_drawn / pool_size` counts the passes);
- keeps round and global step numbering going (`train_steps.global_step`, MLflow's step);
- is evaluated on the same held-out prompts, with the same judge, every round.
An interrupted continuation's unfinished round is resumed (from its saved training state) by the next.

Each continuation is a row of the `campaigns` table (rewritten as its status changes) and an MLflow
parent run of its own (tag `rtt.continuation`). Two continuations never train at once: each holds
the run's lock (`rtt.run_lock`) from the moment it decides its rounds until it ends, so a second
one waits (`wait_s`) or is refused, and a queued one starts from the first one's final checkpoint.
"""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from rtt.checkpoints import discriminator_dir, policy_dir, starting_policy
from rtt.config import load_config
from rtt.data.partitions import continuation_part, round_part
from rtt.data.store import Store
from rtt.eval.stage import BENCHMARK as HELDOUT
from rtt.run_lock import run_lock
from rtt.runs import completed_summary, write_json_atomic

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,79}$")


class CampaignError(ValueError):
    """A campaign that cannot be started or continued as asked (the message says why)."""


@dataclass(frozen=True)
class Campaign:
    name: str
    preset: str
    overrides: list[str]
    data_dir: str
    created_at: str

    def overrides_for(self, rounds: int) -> list[str]:
        """The pipeline's overrides for a run of the campaign with `rounds` rounds in all."""
        return [*self.overrides, f"campaign={self.name}", f"rounds={rounds}"]


@dataclass
class Continuation:
    """One continuation being run: what it trains, and the overrides the pipeline runs with."""

    campaign: Campaign
    index: int
    first_round: int
    last_round: int
    overrides: list[str]
    row: dict = field(default_factory=dict)


def now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def spec_path(data_dir: str | Path, name: str) -> Path:
    return Store(data_dir).run_dir(name) / "campaign.json"


def create(name: str, preset: str, overrides: list[str] | None = None) -> Campaign:
    """Record a new campaign (its settings are checked now); CampaignError if the name is taken."""
    if not NAME.match(name):
        raise CampaignError(f"campaign name {name!r} must match {NAME.pattern} (it is also the run id)")
    overrides = list(overrides or [])
    cfg = load_config(preset, [*overrides, f"campaign={name}"])
    store = Store(cfg.data_dir)
    if spec_path(cfg.data_dir, name).exists():
        raise CampaignError(
            f"campaign {name!r} exists under {cfg.data_dir}: continue it with "
            f"`rtt campaign continue {name}`, or pick another name"
        )
    if (store.run_dir(name) / "config.json").exists():
        raise CampaignError(
            f"a run with id {name!r} exists under {cfg.data_dir}; a campaign's name is its run id: pick another"
        )
    campaign = Campaign(name, preset, overrides, cfg.data_dir, now())
    write_json_atomic(spec_path(cfg.data_dir, name), campaign.__dict__)
    return campaign


def load(name: str, data_dir: str | Path = "data") -> Campaign:
    path = spec_path(data_dir, name)
    if not path.exists():
        raise CampaignError(
            f"no campaign {name!r} under {data_dir} (no {path}); start one with "
            f"`rtt campaign start {name} --config PRESET`"
        )
    return Campaign(**json.loads(path.read_text()))


def completed_rounds(store: Store, run_id: str) -> int:
    """Rounds 0..n-1 that finished (their eval stage completed): the next continuation starts at n."""
    n = 0
    while completed_summary(store, run_id, "eval", n) is not None:
        n += 1
    return n


@contextmanager
def continuation(
    campaign: Campaign, rounds: int, flow_run_id: str | None = None, wait_s: float = 0.0
) -> Iterator[Continuation]:
    """Hold the campaign's run, decide which rounds this continuation trains, record it in the
    `campaigns` table, and record how it ended. The caller runs the pipeline inside the block."""
    if rounds < 1:
        raise CampaignError(f"a continuation trains at least 1 round, got {rounds}")
    store = Store(campaign.data_dir)
    with run_lock(campaign.data_dir, campaign.name, wait_s):
        earlier = sorted(store.rows("campaigns", campaign.name), key=lambda r: r["continuation"])
        for row in earlier:  # we hold the lock: whoever left a continuation running is dead
            if row["status"] == "running":
                write_row(store, {**row, "status": "killed", "ended_at": now()})
        first = completed_rounds(store, campaign.name)
        run = Continuation(campaign, len(earlier), first, first + rounds - 1, campaign.overrides_for(first + rounds))
        cfg = load_config(campaign.preset, run.overrides)
        previous_disc = discriminator_dir(store, campaign.name, first - 1)
        run.row = {
            "campaign": campaign.name,
            "run_id": campaign.name,
            "continuation": run.index,
            "flow_run_id": flow_run_id,
            "first_round": first,
            "last_round": run.last_round,
            "first_step": first * cfg.grpo.steps,
            "last_step": (run.last_round + 1) * cfg.grpo.steps - 1,
            "start_policy": starting_policy(cfg, store, campaign.name, first),
            "start_discriminator": str(previous_disc) if first > 0 and previous_disc.exists() else None,
            "status": "running",
            "started_at": now(),
            "ended_at": None,
            "final_policy": None,
            "item_accuracy": None,
            "prompt_accuracy": None,
            "eval_n": None,
            "prompts_drawn": None,
            "pool_size": None,
        }
        write_row(store, run.row)
        try:
            yield run
        except KeyboardInterrupt:
            write_row(store, {**run.row, "status": "interrupted", "ended_at": now()})
            raise
        except BaseException:
            write_row(store, {**run.row, "status": "failed", "ended_at": now()})
            raise
        run.row.update(status="completed", ended_at=now(), **results(store, campaign.name, run.last_round, cfg))
        write_row(store, run.row)


def write_row(store: Store, row: dict) -> None:
    store.write("campaigns", [row], row["run_id"], continuation_part(row["continuation"]))


def results(store: Store, run_id: str, last_round: int, cfg) -> dict:
    """The final checkpoint, its held-out accuracy and how far through the prompt pool the campaign is."""
    evals = {r["metric"]: r for r in store.rows("evals", run_id, round_part(last_round)) if r["benchmark"] == HELDOUT}
    item = evals.get("item_accuracy", {})
    pool = [p for p in store.rows("prompts", run_id) if p["split"] == "train"]
    return {
        "final_policy": str(policy_dir(store, run_id, last_round)),
        "item_accuracy": item.get("value"),
        "prompt_accuracy": evals.get("prompt_accuracy", {}).get("value"),
        "eval_n": item.get("n"),
        "prompts_drawn": (last_round + 1) * cfg.grpo.steps * cfg.grpo.prompts_per_step,
        "pool_size": len(pool),
    }


def history(store: Store, name: str) -> list[dict]:
    """The campaign's continuations, in order."""
    return sorted(store.rows("campaigns", name), key=lambda r: r["continuation"])


def heldout_curve(store: Store, name: str) -> list[dict]:
    """Held-out item and prompt accuracy by round (round -1: the starting policy), with n."""
    by_round: dict[int, dict] = {}
    for r in store.rows("evals", name):
        if r["benchmark"] == HELDOUT and r["metric"] in ("item_accuracy", "prompt_accuracy"):
            by_round.setdefault(r["round"], {"round": r["round"]})[r["metric"]] = r["value"]
            if r["metric"] == "item_accuracy":
                by_round[r["round"]]["n"] = r["n"]
    return [by_round[k] for k in sorted(by_round)]
