"""Serve the flows as Prefect deployments, so runs can be started (and scheduled) from the UI."""

from __future__ import annotations

from prefect import serve as prefect_serve

from flows.compare import compare
from flows.pipeline import pipeline
from flows.stages import FLOWS


def deployments(config: str = "demo", overrides: list[str] | None = None, cron: str | None = None) -> list:
    params = {"config": config, "overrides": overrides or []}
    out = [pipeline.to_deployment(name=f"pipeline-{config}", parameters=params, cron=cron)]
    out += [f.to_deployment(name=f"{stage}-{config}", parameters=params) for stage, f in FLOWS.items()]
    out.append(compare.to_deployment(name=f"compare-{config}", parameters=params))
    return out


def serve(config: str = "demo", overrides: list[str] | None = None, cron: str | None = None) -> None:
    prefect_serve(*deployments(config, overrides, cron))
