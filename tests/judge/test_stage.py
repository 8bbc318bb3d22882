"""Imported LLM-graded rubrics (HealthBench) through rubrics -> rollouts -> judge, against a local endpoint."""

import json

import pytest

from rtt.constraints.official import shipped
from rtt.data.catalog import query
from rtt.data.store import Store
from rtt.runs import run_stage
from rtt.testing.llm_server import Faults, LocalServer

RUN = "hb-1"


@pytest.fixture(scope="module")
def endpoint():
    with LocalServer(faults=Faults(rate=0.3, seed=5, slow_s=0.5, retry_after_s=0.01)) as server:
        yield server


def overrides(tmp_path, server, policy) -> list[str]:
    return [
        f"data_dir={tmp_path / 'data'}",
        f"tracking_uri={tmp_path / 'mlflow'}",
        f"model.policy={policy}",
        "rubrics.source=healthbench",
        f"rubrics.path={shipped('healthbench/data/healthbench_eval.jsonl')}",
        "rubrics.n_prompts=8",
        "rubrics.eval_fraction=0.25",
        "rollouts.n_prompts=6",
        "rollouts.max_new_tokens=8",
        f"judge.llm.base_url={server.base_url}",
        "judge.llm.model=local-judge",
        "judge.llm.timeout_s=0.25",
        "judge.llm.max_retries=8",
        "judge.llm.backoff_s=0.01",
        "judge.llm.max_concurrency=4",
    ]


def test_healthbench_rubrics_are_judged_by_the_llm_with_every_call_recorded(tmp_path, endpoint, untied_model_dir):
    args = overrides(tmp_path, endpoint, untied_model_dir)  # its greedy eval answers are text, not blank
    rubrics = run_stage("rubrics", "smoke", args, RUN)
    assert rubrics["prompts_train"] + rubrics["prompts_eval"] == 8 and rubrics["pitfalls"] > 0
    store = Store(tmp_path / "data")
    items = query(store, "SELECT * FROM rubrics").to_pylist()
    assert {i["kind"] for i in items} == {"llm"} and {i["author"] for i in items} == {"import:healthbench"}
    assert all(i["weight"] > 0 and (i["points"] < 0) == i["pitfall"] for i in items)
    multi = query(store, "SELECT messages FROM prompts WHERE messages IS NOT NULL").to_pylist()
    assert all(json.loads(m["messages"])[-1]["role"] == "user" for m in multi)

    run_stage("rollouts", "smoke", args, RUN, 0)  # conversations go through the chat template
    judged = run_stage("judge", "smoke", args, RUN, 0)
    verdicts = query(
        store, "SELECT v.verdict, v.judge, v.reason, r.pitfall FROM verdicts v JOIN rubrics r USING (item_id)"
    ).to_pylist()
    expected = query(store, """SELECT count(*) AS n FROM rollouts o JOIN rubrics r USING (prompt_id)""").to_pylist()[0][
        "n"
    ]
    assert len(verdicts) == judged["verdicts"] == expected == judged["llm_requests"]
    assert {v["judge"] for v in verdicts} == {"llm:local-judge"}
    assert judged["llm_failed"] == 0 and judged["llm_retries"] > 0 and judged["unknown"] > 0
    assert all(v["verdict"] != 0 or v["reason"].startswith("no clear YES/NO") for v in verdicts)
    calls = query(
        store, "SELECT count(*) AS n, sum(attempts) AS attempts, bool_or(cached) AS cached FROM llm_calls"
    ).to_pylist()[0]
    assert calls["n"] == expected and calls["attempts"] == endpoint.requests and not calls["cached"]

    before = endpoint.requests
    again = run_stage("judge", "smoke", args, RUN, 0)
    assert endpoint.requests == before and again["llm_cached"] == expected  # the cache answers every call
    assert again["pass_rate"] == judged["pass_rate"]

    # the online loop and the evaluation grade with the same judge (no discriminator: LLM verdicts
    # without quotes carry no token labels, so this run uses uniform relevance)
    with pytest.raises(FileNotFoundError, match="judge.quotes=true"):
        run_stage("discriminator", "smoke", args, RUN, 0)
    online = [*args, "grpo.relevance=uniform", "grpo.steps=1"]
    run_stage("grpo", "smoke", online, RUN, 0)
    run_stage("eval", "smoke", online, RUN, 0)
    stages = query(store, "SELECT stage, count(*) AS n FROM llm_calls GROUP BY stage ORDER BY stage").to_pylist()
    assert [s["stage"] for s in stages] == ["eval", "grpo", "judge"]
    steps = query(store, "SELECT judge FROM verdicts WHERE step = 0").to_pylist()
    assert {s["judge"] for s in steps} == {"llm:local-judge"}
    assert len(steps) == stages[1]["n"]  # one call per (response, item) of the step
    answers = query(store, "SELECT response, items_total FROM generations").to_pylist()
    assert answers and all(a["response"].strip() for a in answers)  # none blank: the LLM grades them all
    assert stages[0]["n"] == sum(a["items_total"] for a in answers)  # one call per (answer, item)
