"""Two pipelines writing to one lake and one MLflow store at once (each its own process, its own
ephemeral Prefect server on the shared Prefect database), while SQL reads the tables over and
over: every read succeeds and sees whole parts only, both runs complete, each with the rows of a
lone run, each MLflow parent FINISHED."""

from __future__ import annotations

import subprocess
import time

from rtt.data.catalog import query
from rtt.data.store import Store
from rtt.testing.kill_resume import KEYS, ONE_ROUND, RTT, PipelineProcess, mlflow_facts, pipeline_command, table_facts

RUNS = ("cc-a", "cc-b")


def read_all(store: Store) -> dict[tuple[str, str], int]:
    """(table, run) -> rows, asserting on the way that no key repeats: a torn or doubled part would."""
    seen = {}
    for table, key in KEYS.items():
        for row in query(
            store,
            f"SELECT run_id, count(*) AS n, count(DISTINCT row({', '.join(key)})) AS d FROM {table} GROUP BY run_id",
        ).to_pylist():
            assert row["n"] == row["d"], (table, row)
            seen[table, row["run_id"]] = row["n"]
    return seen


def test_two_pipelines_and_sql_readers_share_one_lake(lone_run, tmp_path):
    _, _, _, alone = lone_run
    final = {table: facts["rows"] for table, facts in alone["tables"].items()}
    store = Store(tmp_path / "data")
    runs = [PipelineProcess(pipeline_command(tmp_path, run_id, ONE_ROUND), tmp_path) for run_id in RUNS]
    reads, cli_reads = 0, []
    while any(r.proc.poll() is None for r in runs):
        for (table, _), rows in read_all(store).items():
            assert rows <= final[table], table  # parts only grow to their final size
        reads += 1
        if reads % 20 == 5:
            cli_reads.append(
                subprocess.run(
                    [RTT, "sql", "SELECT count(*) AS n FROM rollouts", "--data-dir", str(tmp_path / "data")],
                    capture_output=True,
                    text=True,
                    timeout=300,
                )
            )
        time.sleep(0.2)
    for run in runs:
        assert run.finish() == 0, run.output[-3000:]
    assert reads > 10 and cli_reads and all(r.returncode == 0 for r in cli_reads), [r.stderr for r in cli_reads]
    for run_id in RUNS:
        assert {t: f["rows"] for t, f in table_facts(store, run_id).items()} == final
        assert mlflow_facts(tmp_path / "mlflow", run_id) == {"parents": ["FINISHED"], "running": 0}
