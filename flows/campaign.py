"""Campaign flows: start a campaign, and continue it (what a schedule runs). See `rtt.campaigns`."""

from __future__ import annotations

from prefect import flow, runtime

from flows.artifacts import publish_continuation
from flows.pipeline import pipeline
from rtt.campaigns import Campaign, continuation, create, heldout_curve, load
from rtt.config import load_config
from rtt.data.store import Store


def run_continuation(campaign: Campaign, rounds: int, wait_minutes: float) -> dict:
    """Train the campaign's next `rounds` rounds as one continuation; its `campaigns` row."""
    flow_run = runtime.flow_run.id
    with continuation(campaign, rounds, str(flow_run) if flow_run else None, wait_minutes * 60) as run:
        pipeline(config=campaign.preset, overrides=run.overrides, run_id=campaign.name, continuation=run.index)
    return publish_continuation(run.row, heldout_curve(Store(campaign.data_dir), campaign.name))


@flow(name="rtt-campaign-start", log_prints=True, description="rtt: start a campaign and train its first rounds")
def campaign_start(
    campaign: str, config: str = "demo", overrides: list[str] | None = None, rounds: int | None = None
) -> dict:
    """Start a campaign: record its settings and train its first rounds.

    Args:
        campaign: the campaign's name (letters, digits, - and _); it is also its run id
        config: preset name (demo, smoke, gpu, learn, testbed) or a YAML path on the worker
        overrides: dotted settings, each `key=value`, kept for every continuation (`data_dir` among them)
        rounds: rounds of training of this first continuation (empty: the preset's)
    """
    return run_continuation(
        create(campaign, config, overrides), rounds or load_config(config, overrides or []).rounds, 0.0
    )


@flow(name="rtt-campaign-continue", log_prints=True, description="rtt: train a campaign's next rounds")
def campaign_continue(campaign: str, rounds: int = 1, data_dir: str = "data", wait_minutes: float = 0.0) -> dict:
    """Continue a campaign from its latest checkpoint with prompts it has not trained on yet.

    Args:
        campaign: the campaign's name
        rounds: rounds of training of this continuation
        data_dir: the lake the campaign lives in
        wait_minutes: if another continuation is running, wait this long for it, then start from its
            final checkpoint (0: refuse at once)
    """
    return run_continuation(load(campaign, data_dir), rounds, wait_minutes)
