"""Real `rtt run pipeline` processes killed (SIGKILL, Ctrl-C) at chosen moments, then rerun with the
same run id: the resumed run must equal an uninterrupted one (rows per table, no duplicated key,
the deterministic columns, the final policy's tensors), end with its MLflow parent FINISHED, and
leave no temp file. The default test chains four processes on one run; the sweep (`slow`, and
bench/bench_kill_resume.py) tries every stage at seeded moments and every write and save point."""

from __future__ import annotations

import signal
import subprocess

import pytest

from rtt.testing.kill_resume import (
    ONE_ROUND,
    PipelineProcess,
    differences,
    kill_points,
    pipeline_command,
    run_pipeline,
    snapshot,
    trial,
)


@pytest.mark.slow  # the default test below compares across processes too, through a resume
def test_two_uninterrupted_processes_agree(lone_run, tmp_path):
    """The premise of every comparison: a run is reproducible across processes, to the bit."""
    _, run_id, _, expected = lone_run
    assert all(t["duplicates"] == 0 for t in expected["tables"].values()), expected["tables"]
    assert all(expected["tables"][t]["rows"] > 0 for t in ("prompts", "rollouts", "verdicts", "train_steps", "evals"))
    assert (
        expected["mlflow"] == {"parents": ["FINISHED"], "running": 0}
        and expected["policy"]
        and not expected["leftovers"]
    )
    again = run_pipeline(tmp_path, run_id, ONE_ROUND)
    assert again.proc.returncode == 0, again.output[-3000:]
    assert differences(expected, snapshot(tmp_path, run_id)) == []


def test_killed_and_interrupted_run_resumes_to_the_uninterrupted_one(lone_run, prefect_server, tmp_path):
    """Steps 1, 2 and 4 report to the session's Prefect server; step 3, the Ctrl-C, starts its own
    temporary server as a user's `rtt run` does, so the server's deafness to it is tested too."""
    _, run_id, _, expected = lone_run
    api = prefect_server.api

    # 1. SIGKILL in the middle of the 4th Parquet write (temp file written, not yet renamed)
    first = run_pipeline(tmp_path, run_id, ONE_ROUND, crash_at="store.write:4", prefect_api=api)
    assert first.proc.returncode == -signal.SIGKILL, first.output[-3000:]

    # 2. resumed, SIGKILLed in its first checkpoint save (files written, not yet swapped in)
    second = run_pipeline(tmp_path, run_id, ONE_ROUND, crash_at="checkpoint.save:1", prefect_api=api)
    assert second.proc.returncode == -signal.SIGKILL, second.output[-3000:]
    assert "skipped: completed by an earlier attempt" in second.output

    # 3. resumed, Ctrl-C during GRPO: exit 130, says how to resume, MLflow runs KILLED, nothing half-written
    third = PipelineProcess(pipeline_command(tmp_path, run_id, ONE_ROUND), tmp_path)
    assert third.wait_for("grpo round 0 step 0")
    third.interrupt()
    assert third.finish() == 130, third.output[-3000:]
    assert "resume with: rtt run pipeline --config smoke" in third.output and f"--run-id {run_id}" in third.output
    interrupted = snapshot(tmp_path, run_id)
    assert interrupted["mlflow"] == {"parents": ["KILLED"], "running": 0} and interrupted["leftovers"] == []

    # 4. resumed; while it holds the run, a second process on the same run id is refused and harms nothing
    last = PipelineProcess(pipeline_command(tmp_path, run_id, ONE_ROUND), tmp_path, prefect_api=api)
    assert last.wait_for("Beginning flow run")
    last.send(signal.SIGSTOP)  # keep it holding the lock while the other one tries
    try:
        refused = subprocess.run(
            pipeline_command(tmp_path, run_id, ONE_ROUND), cwd=tmp_path, capture_output=True, text=True, timeout=300
        )
    finally:
        last.send(signal.SIGCONT)
    assert refused.returncode == 2, refused.stderr[-3000:]
    assert f"run {run_id} is already running: held by pid {last.proc.pid}" in refused.stderr
    assert last.finish() == 0, last.output[-3000:]
    assert differences(expected, snapshot(tmp_path, run_id)) == []
    assert f"pages:  rtt report {run_id} --data-dir {tmp_path / 'data'}" in last.output  # the summary's pointer


def test_resuming_under_other_settings_is_refused(lone_run):
    root, run_id, _, _ = lone_run
    refused = subprocess.run(
        pipeline_command(root, run_id, [*ONE_ROUND, "grpo.lr=0.5"]),
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert refused.returncode == 2 and "grpo.lr: 0.0001 -> 0.5" in refused.stderr, refused.stderr[-3000:]


@pytest.mark.slow
def test_every_kill_point_resumes_to_the_uninterrupted_run(lone_run, tmp_path):
    _, run_id, reference, expected = lone_run
    trials = [
        trial(tmp_path / f"t{i}", run_id, ONE_ROUND, point, expected)
        for i, point in enumerate(kill_points(reference, times_per_stage=2, writes=30, saves=8, seed=0))
    ]
    assert [t for t in trials if t["differences"] or t["resume_rc"] != 0] == []
