"""The deployments on a real Prefect server (`prefect server start` on loopback, the session's):
`rtt serve` as the worker, runs triggered through the API as the UI's Run form does, and an
interval schedule that continues a campaign twice; `rtt deploy` of prefect.yaml and a worker per
work pool, with a pipeline that sends each stage to its pool."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import yaml

from flows.deploy import deployments
from flows.pools import deployment_name
from rtt.data.store import Store
from rtt.stages import STAGES
from rtt.testing.loopback import BIN, REPO, background, wait_for
from rtt.testing.prefect_server import run_on_pools

FAST = ["grpo.relevance=gold", "rubrics.n_prompts=8", "eval.max_new_tokens=8"]


@pytest.fixture
def served(prefect_server, tmp_path):
    """(server, root, overrides): the session's Prefect server and `rtt serve --config smoke` serving
    its deployments, stopped after the test (the runs it would still take, with it)."""
    server, root = prefect_server, tmp_path
    overrides = [f"data_dir={root / 'data'}", f"tracking_uri={root / 'mlflow'}", *FAST]
    sets = [w for o in overrides for w in ("--set", o)]
    command = [
        str(BIN / "rtt"),
        "serve",
        "--config",
        "smoke",
        *sets,
        "--campaign",
        "nightly",
        "--data-dir",
        str(root / "data"),
    ]
    with background(command, server.env, root / "serve.log"):
        yield server, root, overrides


def finished(c, run_id, root: Path):
    run = c.read_flow_run(run_id)
    if run.state.is_final():
        assert run.state.is_completed(), (run.state, (root / "serve.log").read_text()[-4000:])
        return run
    return None


def test_a_run_triggered_like_the_ui_form_completes_with_artifacts_and_a_schedule_continues_it(served):
    server, root, overrides = served
    with server.client() as c:
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
        artifacts = server.post("/artifacts/filter", {"limit": 200})
        assert {a["type"] for a in artifacts if a["flow_run_id"] == str(run.id)} == {"markdown", "table"}
        # link artifacts are stored as markdown; the session's server has other runs' artifacts too
        links = [a["data"] for a in artifacts if a["key"].startswith("nightly-") and a["key"].endswith("-mlflow")]
        assert len(links) == 4 and all("(http://127.0.0.1:5000/#/experiments/" in link for link in links), links
        keys = {a["key"] for a in artifacts}
        assert {"nightly-evals-r0", "nightly-grpo-r0", "nightly-pipeline", "nightly-continuation"} <= keys, keys

        # the schedule a user adds to the campaign-continue deployment: every 5 s (the server keeps 2 ahead)
        cont = c.read_deployment_by_name("rtt-campaign-continue/campaign-continue-nightly")
        from prefect.client.schemas.schedules import IntervalSchedule

        [schedule] = c.create_deployment_schedules(cont.id, [(IntervalSchedule(interval=timedelta(seconds=5)), True)])

        def two_done():
            runs = server.post("/flow_runs/filter", {"deployments": {"id": {"any_": [str(cont.id)]}}, "limit": 50})
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
        pools[f"{flow.name}/{d['name']}"] = d["work_pool"]["name"]
    assert pools == {
        "rtt-rubrics/rubrics-cpu": "cpu",
        "rtt-judge/judge-cpu": "cpu",
        "rtt-rollouts/rollouts-gpu": "gpu",
        "rtt-discriminator/discriminator-gpu": "gpu",
        "rtt-grpo/grpo-gpu": "gpu",
        "rtt-eval/eval-gpu": "gpu",
        "rtt-pipeline/pipeline-gpu": "gpu",
        "rtt-pipeline/pipeline-pools": "cpu",  # it only waits: it must not hold a GPU worker's one slot
        "rtt-campaign-start/campaign-start-gpu": "gpu",
        "rtt-campaign-continue/campaign-continue": "gpu",
        "rtt-compare/compare-gpu": "gpu",
    }
    assert all(pools[deployment_name(s.name)] == s.pool for s in STAGES)  # where a pipeline sends its stages


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


@pytest.mark.slow  # bench/bench_pools.py runs the same set-up (with a round) and times it
def test_a_pipeline_on_the_cpu_pool_sends_each_stage_to_its_pool(prefect_server, tmp_path):
    """The two-pool set-up of docs/SCALING.md on one host: pools created, `rtt deploy` of
    prefect.yaml, a worker per pool, and `pipeline-pools` run as the UI's Run form would. Each stage
    runs as a flow run of its deployment on its pool, under the pipeline's flow run and run lock."""
    # no round: the starting policy's eval (gpu) and rubrics (cpu) cover both pools; every stage's
    # pool is held to prefect.yaml by test_prefect_yaml_deploys_every_flow_to_its_pool
    overrides = [f"data_dir={tmp_path / 'data'}", f"tracking_uri={tmp_path / 'mlflow'}", "rounds=0", *FAST]
    result = run_on_pools(prefect_server, tmp_path, overrides)
    logs = "".join((tmp_path / f).read_text()[-3000:] for f in ("cpu.log", "gpu.log"))
    assert result["state"] == "COMPLETED", logs
    assert [run[:4] for run in result["runs"]] == [
        ("eval-gpu", "gpu", "COMPLETED", True),
        ("pipeline-pools", "cpu", "COMPLETED", False),
        ("rubrics-cpu", "cpu", "COMPLETED", True),
    ], logs
    store = Store(tmp_path / "data")
    [run_id] = {r["run_id"] for r in store.rows("prompts")}
    assert {r["round"] for r in store.rows("evals", run_id)} == {-1}


def test_rtt_deploy_reads_prefect_yaml_with_its_schedule_and_refuses_two(tmp_path):
    from flows.deploy import pool_deployments

    spec = tmp_path / "prefect.yaml"
    entry = str(REPO / "flows" / "campaign.py") + ":campaign_continue"
    nightly = {"name": "nightly", "entrypoint": entry, "parameters": {"campaign": "c"}, "work_pool": {"name": "gpu"}}
    spec.write_text(yaml.safe_dump({"deployments": [{**nightly, "schedules": [{"cron": "0 3 * * *"}]}]}))
    [(deployment, pool)] = pool_deployments(spec)
    assert (
        pool == "gpu" and deployment.flow_name == "rtt-campaign-continue" and deployment.parameters == {"campaign": "c"}
    )
    assert deployment.schedules[0].schedule.cron == "0 3 * * *"
    assert deployment.job_variables == {"working_dir": str(tmp_path)}  # flow runs start beside the spec
    spec.write_text(
        yaml.safe_dump({"deployments": [{**nightly, "schedules": [{"cron": "0 3 * * *"}, {"interval": 60}]}]})
    )
    with pytest.raises(ValueError, match="deployment 'nightly': one schedule at most"):
        pool_deployments(spec)
