"""Serve the flows as Prefect deployments, so runs can be started (and scheduled) from the UI.

Every deployment's Run form shows typed, described parameters (the flows' docstrings). A schedule
(`cron` or `interval`) continues `campaign` when one is given, else starts a new pipeline run each
time. For work pools (a `cpu` and a `gpu` pool, workers on other hosts), see `prefect.yaml`.
"""

from __future__ import annotations

from datetime import timedelta

from prefect import serve as prefect_serve

from flows.campaign import campaign_continue, campaign_start
from flows.compare import compare
from flows.pipeline import pipeline
from flows.stages import FLOWS


def schedule(cron: str | None, interval: float | None) -> dict:
    return {"cron": cron} if cron else {"interval": timedelta(seconds=interval)} if interval else {}


def deployments(
    config: str = "demo",
    overrides: list[str] | None = None,
    cron: str | None = None,
    interval: float | None = None,
    campaign: str | None = None,
    rounds: int = 1,
    data_dir: str = "data",
) -> list:
    params = {"config": config, "overrides": overrides or []}
    when = schedule(cron, interval)
    out = [pipeline.to_deployment(name=f"pipeline-{config}", parameters=params, **({} if campaign else when))]
    out += [f.to_deployment(name=f"{stage}-{config}", parameters=params) for stage, f in FLOWS.items()]
    out.append(compare.to_deployment(name=f"compare-{config}", parameters=params))
    out.append(
        campaign_start.to_deployment(name=f"campaign-start-{config}", parameters={**params, "campaign": "my-campaign"})
    )
    continue_params = {
        "campaign": campaign or "my-campaign",
        "rounds": rounds,
        "data_dir": data_dir,
        "wait_minutes": 60.0 if when else 0.0,
    }  # a scheduled continuation queues behind a running one
    out.append(
        campaign_continue.to_deployment(
            name=f"campaign-continue-{campaign or config}", parameters=continue_params, **(when if campaign else {})
        )
    )
    return out


def serve(limit: int | None = 1, **kwargs) -> None:
    """Serve the deployments from this process, running at most `limit` flow runs at once (each in a
    subprocess; the default 1 gives one training run the whole machine)."""
    prefect_serve(*deployments(**kwargs), limit=limit)
