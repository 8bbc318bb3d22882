"""The flows as Prefect deployments, so runs can be started (and scheduled) from the UI.

`serve`: every flow served from this process (`rtt serve`). Every deployment's Run form shows typed,
described parameters (the flows' docstrings). A schedule (`cron` or `interval`) continues `campaign`
when one is given, else starts a new pipeline run each time.

`deploy_to_pools`: `prefect.yaml`'s deployments registered on their work pools (`rtt deploy`), for
workers on other hosts. It is what `prefect deploy --all` does, through Prefect's Python API: that
command of Prefect 3.8.8 stops after the first deployment against its own server (its check for
running workers posts `limit: null`, which the server refuses with 422).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import yaml
from prefect import serve as prefect_serve
from prefect.flows import load_flow_from_entrypoint

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


def pool_deployments(spec: Path) -> list[tuple[object, str]]:
    """(deployment, its work pool) for every deployment of `spec` (a `prefect.yaml`), each starting
    its flow runs in the spec's folder, as prefect.yaml's pull step says; one schedule at most each."""
    root = spec.resolve().parent
    out = []
    for d in yaml.safe_load(spec.read_text())["deployments"]:
        schedules = d.get("schedules") or []
        if len(schedules) > 1:
            raise ValueError(f"{spec}: deployment {d['name']!r}: one schedule at most here (add more in the UI)")
        when = schedule(*(schedules[0].get(key) for key in ("cron", "interval"))) if schedules else {}
        flow = load_flow_from_entrypoint(str(root / d["entrypoint"]))
        deployment = flow.to_deployment(
            name=d["name"],
            parameters=d.get("parameters") or {},
            description=d.get("description"),
            job_variables={"working_dir": str(root)},
            **when,
        )
        out.append((deployment, d["work_pool"]["name"]))
    return out


def deploy_to_pools(spec: Path = Path("prefect.yaml")) -> list[str]:
    """Register (create or update) every deployment of `spec` on its work pool; their full names."""
    names = []
    for deployment, pool in pool_deployments(spec):
        deployment.apply(work_pool_name=pool)
        names.append(f"{deployment.flow_name}/{deployment.name}")
    return names
