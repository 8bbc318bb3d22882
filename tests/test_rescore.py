"""`rtt rescore`: a smoke run's stored rollouts judged again and scored again, beside the originals.

One real one-round smoke run (rubrics, rollouts, judge, discriminator, grpo on the tiny model) is
shared by the module; every test reads its originals back by part, and rescores write only their own
`rescore_*` parts, so the tests do not disturb each other.
"""

from __future__ import annotations

import json

import pytest

from flows.cli import main
from rtt.checkpoints import discriminator_dir
from rtt.compare.results import credit_agreement, on_policy_f1
from rtt.data.catalog import query
from rtt.data.items import load_rubrics
from rtt.data.store import Store, stable_id
from rtt.discriminator.stage import training_pairs
from rtt.relevance_view import load_view
from rtt.rescore import rescore
from rtt.runs import run_stage
from rtt.testing.llm_server import LocalServer

RUN = "rescore-1"
ORIGINAL_PARTS = ("round0", "round0_step0", "round0_step1")  # smoke: offline rollouts, then grpo.steps = 2


def part_bytes(store: Store) -> dict[str, bytes]:
    """Every original part file of the run's verdicts and token_scores, by table/part."""
    return {
        f"{t}/{p.stem}": p.read_bytes()
        for t in ("verdicts", "token_scores")
        for p in store.files(t, RUN)
        if p.stem in ORIGINAL_PARTS
    }


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """(store, what the readers saw before any rescore)."""
    root = tmp_path_factory.mktemp("rescore")
    args = [f"data_dir={root / 'data'}", f"tracking_uri={root / 'mlflow'}", "rounds=1"]
    run_stage("rubrics", "smoke", args, RUN)
    for stage in ("rollouts", "judge", "discriminator", "grpo"):
        run_stage(stage, "smoke", args, RUN, 0)
    store = Store(root / "data")
    grpo_rollout = store.rows("rollouts", RUN, "round0_step1")[0]["rollout_id"]
    return store, {
        "parts": part_bytes(store),
        "training_pairs": len(training_pairs(store, RUN, 0)),
        "credit": credit_agreement(store, [RUN]),
        "f1": on_policy_f1(store, [RUN]),
        "view": [(i.verdict, i.source, i.scores) for i in load_view(store, grpo_rollout).items],
        "grpo_rollout": grpo_rollout,
    }


def expected_pairs(store: Store, grpo_only: bool = False) -> list[tuple[dict, str]]:
    """(rollout, item id) for every stored rollout and its prompt's items, from rollouts and rubrics alone."""
    rubrics = load_rubrics(store, RUN)
    rollouts = [r for part in ORIGINAL_PARTS[grpo_only:] for r in store.rows("rollouts", RUN, part)]
    return [(r, item.item_id) for r in rollouts for item in rubrics[r["prompt_id"]]]


def by_pair(rows: list[dict]) -> dict[tuple[str, str], dict]:
    return {(r["rollout_id"], r["item_id"]): r for r in rows}


def test_rule_rescore_reproduces_the_original_verdicts_beside_them(run):
    store, before = run
    pairs = expected_pairs(store)
    assert len(pairs) > 20  # 8 offline rollouts + 2 steps of 4, each with its prompt's 1-3 items
    summary = rescore(store, RUN, judge="rule")
    assert summary["judge"] == "rescore:rule" and summary["parts"] == ["rescore_rule_round0"]
    assert summary["verdicts"] == len(pairs) and summary["unknown"] == 0  # every smoke item has a checker
    table = summary["agreement"]
    assert table[0]["kind"] == "all" and table[0]["pairs"] == table[0]["both_known"] == len(pairs)
    assert {r["kind"] for r in table} == {"all", "rule"} and len(table) > 3  # all, rule, then one row per checker
    for row in table:
        assert (row["agreement"], row["same_labels"], row["unknown_new"]) == (1.0, 1.0, 0)
        assert (row["pass_to_fail"], row["fail_to_pass"]) == (0, 0)
    assert sum(r["pairs"] for r in table if r["checker"] != "*") == len(pairs)

    new = store.rows("verdicts", RUN, "rescore_rule_round0")
    old = by_pair([v for part in ORIGINAL_PARTS for v in store.rows("verdicts", RUN, part)])
    assert sorted(by_pair(new)) == sorted((r["rollout_id"], i) for r, i in pairs) == sorted(old)
    for v in new:
        o = old[(v["rollout_id"], v["item_id"])]
        assert (v["verdict"], v["token_labels"], v["spans"], v["round"], v["step"]) == (
            o["verdict"],
            o["token_labels"],
            o["spans"],
            o["round"],
            o["step"],
        )
        assert v["judge"] == "rescore:rule" and o["judge"] == "rule"
        assert v["verdict_id"] == stable_id(v["rollout_id"], v["item_id"], "rescore:rule") != o["verdict_id"]
    assert {v["step"] for v in new} == {-1, 0, 1}
    assert part_bytes(store) == before["parts"]  # the originals, byte for byte

    rescore(store, RUN, judge="rule")  # a rerun replaces its part
    counts = query(
        store,
        f"SELECT judge, count(*) AS n, count(DISTINCT verdict_id) AS ids FROM verdicts "
        f"WHERE run_id = '{RUN}' AND judge IN ('rule', 'rescore:rule') GROUP BY judge",
    ).to_pylist()
    assert sorted((c["judge"], c["n"], c["ids"]) for c in counts) == [
        ("rescore:rule", len(pairs), len(pairs)),
        ("rule", len(pairs), len(pairs)),
    ]


def test_the_runs_own_discriminator_rescores_the_grpo_rollouts_to_their_stored_scores(run):
    store, _ = run
    pairs = expected_pairs(store, grpo_only=True)
    summary = rescore(store, RUN, round_=0, relevance_source=f"discriminator:{discriminator_dir(store, RUN, 0)}")
    source = f"rescore:discriminator:{RUN}.round_0"
    assert summary["source"] == source and summary["parts"] == [f"rescore_discriminator-{RUN}.round_0_round0"]
    new = store.rows("token_scores", RUN, summary["parts"][0])
    assert len(new) == summary["token_scores"] == len(pairs)  # one row per (GRPO rollout, item), no offline rollout
    assert sorted(by_pair(new)) == sorted((r["rollout_id"], i) for r, i in pairs)
    tokens = {r["rollout_id"]: r["num_tokens"] for r, _ in pairs}
    old = by_pair([s for part in ORIGINAL_PARTS[1:] for s in store.rows("token_scores", RUN, part)])
    for s in new:
        assert s["source"] == source and len(s["relevance"]) == tokens[s["rollout_id"]]
        o = old[(s["rollout_id"], s["item_id"])]
        assert (o["source"], o["step"]) == ("discriminator", s["step"])
        assert s["relevance"] == pytest.approx(o["relevance"], abs=1e-5)  # the same weights, the same batches
    overall = summary["agreement"][0]
    tokens_total = sum(r["num_tokens"] for r, _ in pairs)
    assert (overall["kind"], overall["pairs"], overall["tokens"]) == ("all", len(pairs), tokens_total)
    assert overall["cosine"] == pytest.approx(1.0) and overall["agree_0.5"] == 1.0
    assert list(summary["credit_agreement"]) == ["round0_step0", "round0_step1"]
    assert all(c is None or c == pytest.approx(1.0, abs=1e-5) for c in summary["credit_agreement"].values())


def test_gold_relevance_is_the_judges_labels_and_gives_rtt_compares_credit_agreement(run):
    store, before = run
    summary = rescore(store, RUN, relevance_source="gold")
    new = store.rows("token_scores", RUN, "rescore_gold_round0")
    labels = by_pair([v for part in ORIGINAL_PARTS[1:] for v in store.rows("verdicts", RUN, part)])
    assert len(new) == len(expected_pairs(store, grpo_only=True))
    for s in new:
        gold = labels[(s["rollout_id"], s["item_id"])]["token_labels"]
        assert s["source"] == "rescore:gold" and s["relevance"] == [float(x) for x in gold]
    # the run's credit agreement is the cosine of its token advantage with gold's: the same number
    credit = list(summary["credit_agreement"].values())
    assert len(credit) == len(before["credit"][RUN]) == 2 and any(c is not None for c in credit)
    for mine, theirs in zip(credit, before["credit"][RUN]):
        assert (mine is None and theirs is None) or mine == pytest.approx(theirs, abs=1e-6)


def test_stages_and_readers_see_only_the_original_rows_after_rescores(run):
    store, before = run
    rescore(store, RUN, judge="rule")
    rescore(store, RUN, relevance_source="uniform")
    with LocalServer(answer=lambda body: "YES") as server:
        summary = rescore(
            store, RUN, judge="llm", overrides=[f"judge.llm.base_url={server.base_url}", "judge.llm.model=local-judge"]
        )
        asked = server.requests
        again = rescore(
            store, RUN, judge="llm", overrides=[f"judge.llm.base_url={server.base_url}", "judge.llm.model=local-judge"]
        )
        assert server.requests == asked and again["llm_cached"] == asked  # the answer cache, as for the judge stage
    pairs = expected_pairs(store)
    blank = sum(not r["text"].strip() for r, _ in pairs)  # blank responses get the rule judge's fail, no request
    assert summary["judge"] == "rescore:llm:local-judge"
    assert summary["llm_requests"] == asked == len(pairs) - blank
    new = by_pair(store.rows("verdicts", RUN, "rescore_llm-local-judge_round0"))
    assert len(new) == len(pairs)
    for r, item_id in pairs:  # the server says YES to everything; a blank response fails every item
        assert new[(r["rollout_id"], item_id)]["verdict"] == (1 if r["text"].strip() else -1)
    assert summary["agreement"][0]["pass_to_fail"] == 0
    calls = store.rows("llm_calls", RUN, "rescore_llm-local-judge_round0")
    assert len(calls) == asked and all(c["stage"] == "rescore" and c["cached"] for c in calls)  # the rerun's, replaced

    assert part_bytes(store) == before["parts"]
    assert len(training_pairs(store, RUN, 0)) == before["training_pairs"]  # what the discriminator stage trains on
    assert credit_agreement(store, [RUN]) == before["credit"] and on_policy_f1(store, [RUN]) == before["f1"]
    view = [(i.verdict, i.source, i.scores) for i in load_view(store, before["grpo_rollout"]).items]
    assert view == before["view"] and {source for _, source, _ in view} == {"discriminator"}  # the GRPO stage's page


def test_cli_exits_2_naming_what_is_missing_and_prints_the_table(run, capsys):
    store, _ = run
    data = ["--data-dir", str(store.root)]
    assert main(["rescore", "--run", "no-such-run", *data, "--judge", "rule"]) == 2
    assert "no-such-run" in capsys.readouterr().err
    assert main(["rescore", "--run", RUN, *data, "--round", "7", "--judge", "rule"]) == 2
    assert "round 7" in capsys.readouterr().err
    assert main(["rescore", "--run", RUN, *data, "--relevance", "discriminator:/no/such/folder"]) == 2
    assert "/no/such/folder" in capsys.readouterr().err
    assert main(["rescore", "--run", RUN, *data, "--relevance", "oracle"]) == 2
    assert "'oracle'" in capsys.readouterr().err
    assert main(["rescore", "--run", RUN, *data, "--judge", "rule", "--set", "judge.nope=1"]) == 2
    assert "judge.nope" in capsys.readouterr().err

    assert main(["rescore", "--run", RUN, *data, "--round", "0", "--judge", "rule"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"== rtt rescore {RUN}: judge rescore:rule vs the run's own, rounds [0] =="
    assert [cell.strip() for cell in lines[1].split("|")][:5] == ["kind", "checker", "pairs", "both_known", "agreement"]
    n = len(expected_pairs(store))
    cells = [cell.strip() for cell in lines[3].split("|")]
    assert cells[:5] == ["all", "*", str(n), str(n), "1"]  # pairs, both known, agreement
    summary = json.loads(lines[-1])
    assert summary["verdicts"] == n and summary["agreement"][0]["agreement"] == 1.0
