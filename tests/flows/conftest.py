"""An uninterrupted smoke pipeline in a real `rtt run` process (one round), shared by the
kill/resume and concurrency tests as what every other run must match; one Prefect server for the
session's flow runs in other processes, and the test harness for those in this one."""

from __future__ import annotations

import pytest
from prefect.testing.utilities import prefect_test_harness

from rtt.testing.kill_resume import ONE_ROUND, run_pipeline, snapshot
from rtt.testing.prefect_server import PrefectServer


@pytest.fixture(scope="session")
def prefect_server(tmp_path_factory):
    """`prefect server start` on loopback. `rtt run` processes given its `api` skip starting a
    temporary server of their own (12 s of a 36 s smoke pipeline here)."""
    with PrefectServer(tmp_path_factory.mktemp("prefect")) as server:
        yield server


@pytest.fixture(scope="session")
def lone_run(tmp_path_factory, prefect_server):
    """(root, run id, process, snapshot) of an uninterrupted one-round smoke pipeline. Ids are
    hashes of the run id: a run compared row by row with this one uses the same run id."""
    root = tmp_path_factory.mktemp("lone")
    process = run_pipeline(root, "kr-1", ONE_ROUND, prefect_api=prefect_server.api)
    assert process.proc.returncode == 0, process.output[-3000:]
    return root, "kr-1", process, snapshot(root, "kr-1")


@pytest.fixture(scope="session")
def harness():
    """One Prefect test server for every in-process flow test (it takes seconds to start)."""
    with prefect_test_harness(server_startup_timeout=120):
        yield
