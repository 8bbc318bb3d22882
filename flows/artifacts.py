"""What a flow run shows in the Prefect UI: Prefect artifacts made from what rtt recorded.

Each stage's flow run gets a markdown summary (the numbers the stage logs) and a link to its
MLflow run; the eval stage also a table of the round's evaluations; the pipeline a markdown of
its stages and a table of every evaluation; a campaign continuation its row of the `campaigns`
table and the held-out curve. Keys name the run, so the UI's Artifacts page keeps each one's history.
"""

from __future__ import annotations

import re

from prefect.artifacts import create_link_artifact, create_markdown_artifact, create_table_artifact

from rtt.config import load_config
from rtt.data.partitions import round_part
from rtt.data.store import Store
from rtt.stages import stage_name
from rtt.tracking import run_url

HIDDEN = ("run_id", "stage", "round", "mlflow_run_id", "mlflow_experiment_id")


def key(*parts: object) -> str:
    """An artifact key: lowercase letters, digits and dashes only (Prefect's rule)."""
    return re.sub(r"[^a-z0-9-]+", "-", "-".join(str(p) for p in parts).lower()).strip("-")


def markdown_table(rows: list[dict]) -> str:
    columns = list(dict.fromkeys(c for row in rows for c in row))
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell(row.get(c)) for c in columns) + " |" for row in rows]
    return "\n".join(lines)


def cell(value) -> str:
    text = f"{value:.4g}" if isinstance(value, float) else "" if value is None else str(value)
    return text.replace("|", "\\|").replace("\n", " ")


def publish_stage(summary: dict, config: str, overrides: list[str] | None) -> dict:
    """A stage's summary, its MLflow link and (eval) the round's evaluations, as artifacts; returns `summary`."""
    cfg = load_config(config, overrides or [])
    name = stage_name(summary["stage"], summary["round"])
    numbers = [{"": k, "value": v} for k, v in summary.items() if k not in HIDDEN and not isinstance(v, (dict, list))]
    create_markdown_artifact(
        f"## {name} of run `{summary['run_id']}`\n\n{markdown_table(numbers)}\n",
        key=key(summary["run_id"], name),
        description=f"rtt {name}: summary",
    )
    url = run_url(cfg.tracking_uri, cfg.tracking_ui, summary.get("mlflow_experiment_id"), summary.get("mlflow_run_id"))
    if url:
        create_link_artifact(
            url,
            link_text=f"MLflow run of {name}",
            key=key(summary["run_id"], name, "mlflow"),
            description="the stage's params, metrics and artifacts in MLflow",
        )
    if summary["stage"] == "eval":
        rows = evaluations(Store(cfg.data_dir), summary["run_id"], summary["round"])
        if rows:
            create_table_artifact(
                rows,
                key=key(summary["run_id"], "evals", f"r{summary['round']}"),
                description=f"evaluations of round {summary['round']}",
            )
    return summary


def evaluations(store: Store, run_id: str, round_: int | None = None) -> list[dict]:
    """Evaluation rows (of one round, or all) without the per-checker breakdown, sorted."""
    rows = store.rows("evals", run_id, None if round_ is None else round_part(round_))
    return sorted(
        (
            {
                "round": r["round"],
                "benchmark": r["benchmark"],
                "metric": r["metric"],
                "value": round(r["value"], 4),
                "n": r["n"],
            }
            for r in rows
            if "/" not in r["metric"]
        ),
        key=lambda r: (r["round"], r["benchmark"], r["metric"]),
    )


def publish_pipeline(result: dict, data_dir: str) -> dict:
    """The pipeline's stages (wall time and headline numbers) and every evaluation, as artifacts."""
    run_id = result["run_id"]
    stages = [
        {
            "stage": name,
            "wall_s": s.get("wall_s"),
            "reward_last": s.get("reward_last"),
            "item_accuracy": s.get("item_accuracy"),
            "f1": s.get("f1"),
        }
        for name, s in result["stages"].items()
    ]
    stages = [{k: v for k, v in row.items() if v is not None or k in ("stage", "wall_s")} for row in stages]
    create_markdown_artifact(
        f"## Pipeline run `{run_id}`\n\n{markdown_table(stages)}\n",
        key=key(run_id, "pipeline"),
        description="rtt pipeline: stages",
    )
    rows = evaluations(Store(data_dir), run_id)
    if rows:
        create_table_artifact(rows, key=key(run_id, "evals"), description="every evaluation of the run, by round")
    return result


def publish_continuation(row: dict, curve: list[dict]) -> dict:
    """A campaign continuation's `campaigns` row and the campaign's held-out curve, as artifacts."""
    create_markdown_artifact(
        f"## Campaign `{row['campaign']}`, continuation {row['continuation']}\n\n"
        f"{markdown_table([{'': k, 'value': v} for k, v in row.items()])}\n",
        key=key(row["campaign"], "continuation"),
        description="rtt campaign continuation",
    )
    if curve:
        create_table_artifact(
            curve,
            key=key(row["campaign"], "heldout"),
            description="held-out accuracy by round (round -1: the starting policy)",
        )
    return row
