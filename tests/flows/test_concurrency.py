"""Two pipelines writing to one lake and one MLflow store at once (each its own process, its own
ephemeral Prefect server on the shared Prefect database), while SQL reads the tables over and
over: every read succeeds and sees whole parts only, both runs complete, each with the rows of a
lone run, each MLflow parent FINISHED.

The lake is on an object store (`data_dir=s3://...`, a real S3 API on loopback), and one of the two
pipelines is SIGKILLed before one of its part writes and rerun while the other goes on: the kill,
the rerun and the concurrent writers of issue 18's lake on S3 in one test. (Two writers on a lake
folder: `tests/data/test_concurrent_writers.py`; a folder lake killed and resumed:
`test_kill_resume.py`.)"""

from __future__ import annotations

import signal
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


def test_two_pipelines_and_sql_readers_share_one_lake_on_s3_and_a_killed_one_resumes(
    lone_run, s3, prefect_server, tmp_path, monkeypatch
):
    _, _, _, alone = lone_run
    final = {table: facts["rows"] for table, facts in alone["tables"].items()}
    lake = s3.url("concurrency")
    monkeypatch.setenv("RTT_STATE_DIR", str(tmp_path / "state"))
    overrides = [*ONE_ROUND, f"data_dir={lake}"]
    store = Store(lake)
    command = {run_id: pipeline_command(tmp_path, run_id, overrides) for run_id in RUNS}
    # cc-a dies before the PUT of its 6th part, while cc-b runs
    runs = {
        "cc-a": PipelineProcess(command["cc-a"], tmp_path, "store.write:6"),
        "cc-b": PipelineProcess(command["cc-b"], tmp_path),
    }
    killed, reads, cli_reads = None, 0, []
    while any(r.proc.poll() is None for r in runs.values()) or killed is None:
        if killed is None and runs["cc-a"].proc.poll() is not None:
            killed = runs["cc-a"]
            assert killed.finish() == -signal.SIGKILL, killed.output[-3000:]
            # the rerun, while cc-b goes on (reporting to the session's Prefect server: faster to start)
            runs["cc-a"] = PipelineProcess(command["cc-a"], tmp_path, prefect_api=prefect_server.api)
        for (table, _), rows in read_all(store).items():
            assert rows <= final[table], table  # parts only grow to their final size
        reads += 1
        if reads % 20 == 5:
            sql = [RTT, "sql", "SELECT count(*) AS n FROM rollouts", "--data-dir", lake]
            cli_reads.append(subprocess.run(sql, capture_output=True, text=True, timeout=300))
        time.sleep(0.2)
    for run in runs.values():
        assert run.finish() == 0, run.output[-3000:]
    assert "skipped: completed by an earlier attempt" in runs["cc-a"].output
    assert reads > 10 and cli_reads and all(r.returncode == 0 for r in cli_reads), [r.stderr for r in cli_reads]
    for run_id in RUNS:
        assert {t: f["rows"] for t, f in table_facts(store, run_id).items()} == final
        assert mlflow_facts(tmp_path / "mlflow", run_id) == {"parents": ["FINISHED"], "running": 0}
    keys = s3.keys("concurrency/")
    assert {k.split("/")[2] for k in keys if k.startswith("concurrency/tables/")} == {t for t, n in final.items() if n}
    assert any(k.startswith("concurrency/mlflow/") and k.endswith("/config.json") for k in keys)  # MLflow's artifacts
    assert not (tmp_path / "data").exists()  # nothing went to a local lake folder
