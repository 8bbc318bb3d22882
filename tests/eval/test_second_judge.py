"""A second LLM judge grades the same held-out answers, so a judge-specific gap shows."""

from rtt.data.catalog import query
from rtt.data.store import Store
from rtt.runs import run_stage
from rtt.testing.llm_server import LocalServer


def test_second_judge_grades_every_item_and_the_gap_is_recorded(tmp_path, untied_model_dir):
    with LocalServer(answer=lambda body: "NO") as server:  # a judge that finds nothing satisfied
        args = [
            f"data_dir={tmp_path / 'data'}",
            f"tracking_uri={tmp_path / 'mlflow'}",
            f"model.policy={untied_model_dir}",
            "eval.second_judge=true",
            f"eval.second_judge_llm.base_url={server.base_url}",
            "eval.second_judge_llm.model=judge-2",
        ]
        run_stage("rubrics", "smoke", args, "j2-1")
        summary = run_stage("eval", "smoke", args, "j2-1", -1)
        items = query(
            Store(tmp_path / "data"),
            "SELECT count(*) AS n FROM rubrics r JOIN prompts p USING (prompt_id) WHERE p.split = 'eval'",
        ).to_pylist()[0]["n"]
        assert server.requests == items  # every item, the rule-checkable ones too
    assert summary["heldout_rubrics_judge2_item_accuracy"] == 0.0
    store = Store(tmp_path / "data")
    answers = query(store, "SELECT response FROM generations").to_pylist()
    assert all(a["response"].strip() for a in answers)  # text, not blank (a blank answer gets no LLM call)
    rows = {(r["benchmark"], r["metric"]): r["value"] for r in query(store, "SELECT * FROM evals").to_pylist()}
    assert rows[("heldout_rubrics", "item_accuracy")] == summary["item_accuracy"]  # the training (rule) judge
    assert ("heldout_rubrics_judge2", "item_accuracy") in rows
    calls = query(store, "SELECT model, count(*) AS n FROM llm_calls GROUP BY model").to_pylist()
    assert calls == [{"model": "judge-2", "n": items}]
