"""The deployments on a real Prefect server: `prefect server start` on loopback, `rtt serve` as the
worker, runs triggered through the API as the UI's Run form does, and an interval schedule that
continues a campaign twice."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import timedelta
from pathlib import Path

import pytest

from flows.deploy import deployments
from rtt.data.store import Store

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
FAST = ["grpo.relevance=gold", "rubrics.n_prompts=8", "eval.max_new_tokens=8"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(check, timeout: float, what: str, proc: subprocess.Popen | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"{what}: the process exited with {proc.returncode}")
        value = check()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=2) as answer:
            return answer.status == 200
    except OSError:
        return False


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """(api url, root, overrides): a Prefect server and `rtt serve --config smoke` serving its deployments."""
    root = tmp_path_factory.mktemp("served")
    api = f"http://127.0.0.1:{free_port()}/api"
    env = {
        **os.environ,
        "PREFECT_HOME": str(root / "prefect"),
        "PREFECT_API_URL": api,
        "PREFECT_UI_ENABLED": "false",
        "PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS": "1",
        "PREFECT_SERVER_SERVICES_SCHEDULER_MIN_RUNS": "1",
        "PREFECT_SERVER_SERVICES_SCHEDULER_MAX_RUNS": "2",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_RUNNER_POLL_FREQUENCY": "1",
    }
    logs = [open(root / name, "w") for name in ("server.log", "serve.log")]
    server = subprocess.Popen(
        [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", api.split(":")[2][:-4]],
        env=env,
        stdout=logs[0],
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    procs = [server]
    try:
        wait_for(lambda: healthy(api), 120, "the Prefect server", server)
        overrides = [f"data_dir={root / 'data'}", f"tracking_uri={root / 'mlflow'}", *FAST]
        serve = subprocess.Popen(
            [
                str(BIN / "rtt"),
                "serve",
                "--config",
                "smoke",
                *[w for o in overrides for w in ("--set", o)],
                "--campaign",
                "nightly",
                "--data-dir",
                str(root / "data"),
            ],
            env=env,
            cwd=REPO,
            stdout=logs[1],
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        procs.append(serve)
        yield api, root, overrides
    finally:
        for proc in reversed(procs):
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        for log in logs:
            log.close()


def client(api: str):
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings({PREFECT_API_URL: api}):
        return get_client(sync_client=True)


def finished(c, run_id, root: Path):
    run = c.read_flow_run(run_id)
    if run.state.is_final():
        assert run.state.is_completed(), (run.state, (root / "serve.log").read_text()[-4000:])
        return run
    return None


def test_a_run_triggered_like_the_ui_form_completes_with_artifacts_and_a_schedule_continues_it(served):
    api, root, overrides = served
    with client(api) as c:
        start = wait_for(
            lambda: deployment(c, "rtt-campaign-start/campaign-start-smoke"), 90, "rtt serve's deployments"
        )
        schema = start.parameter_openapi_schema["properties"]
        assert schema["rounds"]["anyOf"][0]["type"] == "integer" and "description" in schema["campaign"]
        # what the UI's Run form posts: the deployment's parameters as the user edited them
        run = c.create_flow_run_from_deployment(
            start.id, parameters={"campaign": "nightly", "config": "smoke", "overrides": overrides, "rounds": 1}
        )
        wait_for(lambda: finished(c, run.id, root), 240, "the campaign-start run")
        artifacts = post(api, "/artifacts/filter", {"limit": 200})
        assert {a["type"] for a in artifacts if a["flow_run_id"] == str(run.id)} == {"markdown", "table"}
        links = [a["data"] for a in artifacts if a["key"].endswith("-mlflow")]  # link artifacts are stored as markdown
        assert len(links) == 4 and all("(http://127.0.0.1:5000/#/experiments/" in link for link in links), links
        keys = {a["key"] for a in artifacts}
        assert {"nightly-evals-r0", "nightly-grpo-r0", "nightly-pipeline", "nightly-continuation"} <= keys, keys

        # the schedule a user adds to the campaign-continue deployment: every 5 s (the server keeps 2 ahead)
        cont = c.read_deployment_by_name("rtt-campaign-continue/campaign-continue-nightly")
        from prefect.client.schemas.schedules import IntervalSchedule

        [schedule] = c.create_deployment_schedules(cont.id, [(IntervalSchedule(interval=timedelta(seconds=5)), True)])

        def two_done():
            runs = post(api, "/flow_runs/filter", {"deployments": {"id": {"any_": [str(cont.id)]}}, "limit": 50})
            done = [r for r in runs if r["state_type"] in ("COMPLETED", "FAILED", "CRASHED", "CANCELLED")]
            assert all(r["state_type"] == "COMPLETED" for r in done), [(r["name"], r["state_name"]) for r in done]
            return len(done) >= 2

        wait_for(two_done, 300, "two scheduled continuations")
        c.update_deployment_schedule(cont.id, schedule.id, active=False)
    rows = sorted(Store(root / "data").rows("campaigns", "nightly"), key=lambda r: r["continuation"])[:3]
    assert [(r["continuation"], r["status"], r["first_round"]) for r in rows] == [
        (0, "completed", 0),
        (1, "completed", 1),
        (2, "completed", 2),
    ]
    assert rows[1]["start_policy"] == rows[0]["final_policy"] and rows[2]["start_policy"] == rows[1]["final_policy"]
    steps = sorted(r["global_step"] for r in Store(root / "data").rows("train_steps", "nightly") if r["round"] <= 2)
    assert steps == list(range(6))


def post(api: str, path: str, body: dict) -> list[dict]:
    """A filter query straight to the API (this Prefect's sync client sends its unset filters as
    null, which its server refuses)."""
    request = urllib.request.Request(f"{api}{path}", json.dumps(body).encode(), {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.loads(answer.read())


def deployment(c, name: str):
    try:
        return c.read_deployment_by_name(name)
    except Exception:  # not registered yet
        return None


def test_serve_schedules_the_campaign_not_a_fresh_pipeline():
    by_name = {d.name: d for d in deployments("smoke", ["seed=1"], interval=3600, campaign="nightly", rounds=2)}
    assert not by_name["pipeline-smoke"].schedules
    scheduled = by_name["campaign-continue-nightly"]
    assert scheduled.schedules[0].schedule.interval == timedelta(hours=1)
    assert scheduled.parameters == {"campaign": "nightly", "rounds": 2, "data_dir": "data", "wait_minutes": 60.0}
    assert set(by_name) >= {"rubrics-smoke", "grpo-smoke", "eval-smoke", "compare-smoke", "campaign-start-smoke"}
    assert by_name["pipeline-smoke"].parameters == {"config": "smoke", "overrides": ["seed=1"]}
    undescribed = [
        (d.name, name)
        for d in by_name.values()  # the Run form shows each field's description
        for name, field in d._parameter_openapi_schema.properties.items()
        if not field.get("description")
    ]
    assert not undescribed


def test_prefect_yaml_deploys_every_flow_to_its_pool():
    import yaml
    from prefect.flows import load_flow_from_entrypoint

    spec = yaml.safe_load((REPO / "prefect.yaml").read_text())
    pools = {}
    for d in spec["deployments"]:
        flow = load_flow_from_entrypoint(str(REPO / d["entrypoint"]))
        flow.validate_parameters(d["parameters"])  # the Run form's defaults fit the flow's signature
        pools[flow.name] = d["work_pool"]["name"]
    assert pools == {
        "rtt-rubrics": "cpu",
        "rtt-judge": "cpu",
        "rtt-rollouts": "gpu",
        "rtt-discriminator": "gpu",
        "rtt-grpo": "gpu",
        "rtt-eval": "gpu",
        "rtt-pipeline": "gpu",
        "rtt-campaign-start": "gpu",
        "rtt-campaign-continue": "gpu",
        "rtt-compare": "gpu",
    }


def test_each_stage_flow_is_found_again_from_its_deployments_entrypoint():
    """The stage flows are made from `rtt.stages.STAGES`; a worker finds each by the entrypoint its
    deployment records."""
    from prefect.flows import load_flow_from_entrypoint

    from flows.stages import FLOWS
    from rtt.stages import STAGE_NAMES

    assert tuple(FLOWS) == STAGE_NAMES
    for name, flow in FLOWS.items():
        entrypoint = flow.to_deployment(name="x").entrypoint
        assert entrypoint.endswith(f"flows/stages.py:{name}")
        loaded = load_flow_from_entrypoint(str(REPO / "flows" / f"stages.py:{name}"))
        assert loaded.name == flow.name == f"rtt-{name}" and loaded.parameters == flow.parameters
