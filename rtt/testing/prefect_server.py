"""A Prefect server on loopback, and the two-pool set-up of docs/SCALING.md on one host, for the
deployment tests and `bench/bench_pools.py`.

`PrefectServer(root)` runs `prefect server start` on a free port with its own PREFECT_HOME under
`root` (schedules looked at every second) and waits until it answers; `env` reaches it. `post`
queries the API directly (this Prefect's sync client sends unset filters as null, which its server
refuses).

`run_on_pools` is what a user of two hosts does, on one: create the `gpu` and `cpu` pools,
`rtt deploy`, start a worker per pool, run the `pipeline-pools` deployment as the UI's Run form
posts it, and wait; it returns each deployment flow run's deployment, pool, state, whether it is a
subflow, and its start and end.
"""

from __future__ import annotations

import datetime
import json
import os
import subprocess
import urllib.request
from pathlib import Path

from rtt.testing.loopback import BIN, REPO, answers, background, free_port, wait_for


class PrefectServer:
    """`prefect server start` on loopback; a context manager."""

    def __init__(self, root: Path, start_timeout_s: float = 120.0):
        self.root = root
        self.api = f"http://127.0.0.1:{free_port()}/api"
        self.env = {
            **os.environ,
            "PREFECT_HOME": str(root / "prefect"),
            "PREFECT_API_URL": self.api,
            "PREFECT_UI_ENABLED": "false",
            "PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS": "1",
            "PREFECT_SERVER_SERVICES_SCHEDULER_MIN_RUNS": "1",
            "PREFECT_SERVER_SERVICES_SCHEDULER_MAX_RUNS": "2",
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PREFECT_RUNNER_POLL_FREQUENCY": "1",
            "PREFECT_WORKER_QUERY_SECONDS": "1",
        }
        port = self.api.split(":")[2][: -len("/api")]
        command = [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", port]
        self._server = background(command, self.env, root / "server.log")
        process = self._server.__enter__()
        try:
            wait_for(lambda: answers(f"{self.api}/health"), start_timeout_s, "the Prefect server", process)
        except BaseException:
            self._server.__exit__(None, None, None)
            raise

    def client(self):
        """Prefect's sync client of this server."""
        from prefect.client.orchestration import get_client
        from prefect.settings import PREFECT_API_URL, temporary_settings

        with temporary_settings({PREFECT_API_URL: self.api}):
            return get_client(sync_client=True)

    def post(self, path: str, body: dict) -> list[dict]:
        request = urllib.request.Request(
            f"{self.api}{path}", json.dumps(body).encode(), {"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=30) as answer:
            return json.loads(answer.read())

    def __enter__(self) -> PrefectServer:
        return self

    def __exit__(self, *exc) -> None:
        self._server.__exit__(*exc)


def run_on_pools(server: PrefectServer, root: Path, overrides: list[str], config: str = "smoke") -> dict:
    """Pools, `rtt deploy`, a worker per pool, and one `pipeline-pools` run of `config` with
    `overrides`; {"state", "wall_s" (the pipeline's flow run), "runs": [(deployment, pool, state,
    subflow, start, end), ...] for every flow run of a prefect.yaml deployment}. Logs under `root`."""
    prefect = str(BIN / "prefect")
    for pool in ("gpu", "cpu"):
        command = [prefect, "work-pool", "create", pool, "--type", "process", "--overwrite"]
        subprocess.run(command, env=server.env, check=True, capture_output=True, timeout=120)
    deployed = subprocess.run([str(BIN / "rtt"), "deploy"], env=server.env, cwd=REPO, capture_output=True, text=True)
    if deployed.returncode != 0:
        raise RuntimeError(f"rtt deploy failed:\n{deployed.stdout[-3000:]}{deployed.stderr[-3000:]}")
    workers = {pool: [prefect, "worker", "start", "--pool", pool] for pool in ("gpu", "cpu")}
    workers["gpu"] += ["--limit", "1"]  # one training job per GPU
    with (
        background(workers["gpu"], server.env, root / "gpu.log"),
        background(workers["cpu"], server.env, root / "cpu.log"),
        server.client() as client,
    ):
        deployment = client.read_deployment_by_name("rtt-pipeline/pipeline-pools")
        parameters = {"config": config, "overrides": overrides, "stages_on_pools": True}
        run = client.create_flow_run_from_deployment(deployment.id, parameters=parameters)
        wait_for(lambda: client.read_flow_run(run.id).state.is_final(), 900, "the pipeline-pools run")
        final = client.read_flow_run(run.id)
    names = {d["id"]: d["name"] for d in server.post("/deployments/filter", {"limit": 200})}
    ours = {f"{d['name']}" for d in _spec()["deployments"]}
    runs = sorted(
        (
            names[r["deployment_id"]],
            r["work_pool_name"],
            r["state_type"],
            r["parent_task_run_id"] is not None,
            _t(r["start_time"]),
            _t(r["end_time"]),
        )
        for r in server.post("/flow_runs/filter", {"limit": 200})
        if names.get(r["deployment_id"]) in ours
    )
    return {"state": final.state.type.value, "wall_s": final.total_run_time.total_seconds(), "runs": runs}


def _spec() -> dict:
    import yaml

    return yaml.safe_load((REPO / "prefect.yaml").read_text())


def _t(stamp: str | None) -> float | None:
    return datetime.datetime.fromisoformat(stamp).timestamp() if stamp else None
