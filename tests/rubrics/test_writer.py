"""LLM rubric writing and the tail refinement, against a local OpenAI-compatible server."""

import json
import re

import pytest

from rtt.config import load_config
from rtt.data.catalog import query
from rtt.data.items import load_rubrics
from rtt.data.store import Store
from rtt.judge.llm import SYSTEM as JUDGE_SYSTEM
from rtt.rubrics.stage import run_rubrics
from rtt.rubrics.writer import WRITER_SYSTEM, parse_criteria, weighted_score
from rtt.stage_context import StageContext
from rtt.testing.llm_server import LocalServer
from rtt.tracking import Tracker


def test_parse_criteria_keeps_only_usable_ones():
    answer = json.dumps(
        {
            "criteria": [
                {"text": " Names three sights ", "weight": 3},
                {"text": "names three sights", "weight": 2},  # duplicate
                {"text": "", "weight": 1},
                {"text": "Too heavy", "weight": 4},
                {"text": "Fractional", "weight": 1.5},
                {"text": "Boolean", "weight": True},
                "not an object",
                {"text": "Short", "weight": 1.0},
            ]
        }
    )
    assert parse_criteria(answer, 8) == [{"text": "Names three sights", "weight": 3}, {"text": "Short", "weight": 1}]
    assert parse_criteria(answer, 1) == [{"text": "Names three sights", "weight": 3}]
    assert parse_criteria("Here is a rubric: 1. Be nice", 8) == [] and parse_criteria('{"criteria": "x"}', 8) == []


def test_weighted_score_hand_worked():
    from rtt.data.items import RubricItem

    items = [RubricItem(f"i{k}", "p", k, "t", w, "llm", None, {}) for k, w in enumerate((3.0, 1.0, 2.0))]
    rows = [{"verdict": 1}, {"verdict": -1}, {"verdict": 0}]
    assert weighted_score(rows, items) == pytest.approx(3 / 6)  # only the weight-3 item is satisfied


def fake_llm(body: dict) -> str:
    """Writer, candidate sampler and judge in one deterministic endpoint.

    Drafts: criteria of level 1 and 2. Candidates: "candidate <seed> ..." (seed 0..3). Judge: a
    candidate meets a criterion when its number is at least the criterion's level. Round 0 ties
    candidates 2 and 3 (both meet both; the lower index ranks first); the rewrite adds a level-3
    criterion naming the pair, so round 1 ranks 3 above 2. The prompt "Broken" gets an unusable draft."""
    system = body["messages"][0]["content"] if body["messages"][0]["role"] == "system" else ""
    user = body["messages"][-1]["content"]
    if system == WRITER_SYSTEM and "[Current rubric]" in user:
        old = re.findall(r"^\d+\. \(weight (\d)\) (.+)$", user, flags=re.M)
        pair = re.findall(r"candidate (\d)", user)
        level = max(map(int, pair))  # a criterion only the better of the pair meets
        criteria = [{"text": t, "weight": int(w)} for w, t in old] + [
            {"text": f"Beats {pair[0]} vs {pair[1]} level {level}", "weight": 2}
        ]
        return json.dumps({"criteria": criteria})
    if system == WRITER_SYSTEM:
        return (
            "no rubric, sorry"
            if "Broken" in user
            else json.dumps(
                {"criteria": [{"text": "Level 1 reached", "weight": 3}, {"text": "Level 2 reached", "weight": 1}]}
            )
        )
    if system == JUDGE_SYSTEM:
        number = int(re.search(r"candidate (\d)", user.split("[Response]")[1]).group(1))
        level = int(re.search(r"level (\d)", user.split("[Criterion]")[1], flags=re.I).group(1))
        return "YES" if number >= level else "NO"
    return f"candidate {body.get('seed', 0)} answers: {user[:20]}"


@pytest.fixture
def prompts_file(tmp_path):
    path = tmp_path / "prompts.jsonl"
    rows = [
        {"id": "trip", "prompt": "Plan a trip to Kyoto."},
        {"id": "bread", "prompt": "How do I bake bread?"},
        {"id": "broken", "prompt": "Broken prompt."},
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def writer_config(tmp_path, server, prompts_file, *extra):
    return load_config(
        "smoke",
        [
            f"data_dir={tmp_path / 'data'}",
            "rubrics.source=prompts",
            f"rubrics.path={prompts_file}",
            "rubrics.n_prompts=0",
            "rubrics.write=true",
            "rubrics.refine_rounds=2",
            "rubrics.candidates=4",
            "rubrics.eval_fraction=0.34",
            f"rubrics.llm.base_url={server.base_url}",
            "rubrics.llm.model=writer",
            f"judge.llm.base_url={server.base_url}",
            "judge.llm.model=judge",
            *extra,
        ],
    )


def test_written_rubrics_are_refined_on_the_top_pair_with_lineage(tmp_path, prompts_file):
    store = Store(tmp_path / "data")
    with LocalServer(answer=fake_llm) as server:
        summary = run_rubrics(StageContext(writer_config(tmp_path, server, prompts_file), store, Tracker(), "w-1"))
        requests = server.requests
        # 3 drafts, 2 x 4 candidates (none for "broken"), 2 prompts x 4 candidates x 2 criteria judged in round 0,
        # in round 1 only the new third criterion (the first two questions are answered by the cache), 2 x 2 rewrites
        assert requests == 3 + 8 + 16 + 8 + 4
        again = run_rubrics(StageContext(writer_config(tmp_path, server, prompts_file), store, Tracker(), "w-1"))
        assert server.requests == requests and again == summary  # the cache answers every call
    assert (summary["written"], summary["write_failures"], summary["refined"], summary["rubric_versions"]) == (
        2,
        1,
        2,
        6,
    )
    assert summary["dropped_prompts"] == 1  # "broken": nothing written, nothing given
    rows = query(
        store,
        "SELECT prompt_id, version, parent_version, trigger, author, item_index, text, weight "
        "FROM rubrics ORDER BY prompt_id, version, item_index",
    ).to_pylist()
    trip = [r for r in rows if r["prompt_id"] == "prompts-trip"]
    assert [(r["version"], r["parent_version"]) for r in trip] == [(0, None)] * 2 + [(1, 0)] * 3 + [(2, 1)] * 4
    assert {r["author"] for r in trip} == {"llm:writer"}
    first = json.loads(trip[2]["trigger"])
    assert first["candidates"] == ["prompts-trip-c2", "prompts-trip-c3"] and first["scores"] == [1.0, 1.0]  # a tie
    trigger = json.loads(trip[-1]["trigger"])
    assert trigger["candidates"] == ["prompts-trip-c3", "prompts-trip-c2"] and trigger["round"] == 1
    assert trigger["scores"][0] >= trigger["scores"][1] and trigger["texts"][0].startswith("candidate 3")
    latest = load_rubrics(store, "w-1")
    assert set(latest) == {"prompts-trip", "prompts-bread"}
    assert [i.text for i in latest["prompts-trip"]][-1] == "Beats 3 vs 2 level 3" and all(
        i.kind == "llm" for i in latest["prompts-trip"]
    )
    calls = query(store, "SELECT model, count(*) AS n FROM llm_calls GROUP BY model ORDER BY model").to_pylist()
    assert calls == [{"model": "judge", "n": 40}, {"model": "writer", "n": 15}]


def test_writing_next_to_verifiable_items_keeps_them_in_every_version(tmp_path):
    store = Store(tmp_path / "data")
    with LocalServer(answer=fake_llm) as server:
        cfg = load_config(
            "smoke",
            [
                f"data_dir={tmp_path / 'data'}",
                "rubrics.n_prompts=4",
                "rubrics.write=true",
                "rubrics.refine_rounds=1",
                "rubrics.candidates=2",
                f"rubrics.llm.base_url={server.base_url}",
                "rubrics.llm.model=writer",
                f"judge.llm.base_url={server.base_url}",
                "judge.llm.model=judge",
            ],
        )
        run_rubrics(StageContext(cfg, store, Tracker(), "w-2"))
    for items in load_rubrics(store, "w-2").values():
        kinds = [i.kind for i in items]
        assert kinds[: kinds.index("llm")] == ["rule"] * kinds.index("llm") and kinds.count("llm") == 3


def test_source_prompts_needs_write():
    with pytest.raises(Exception, match="rubrics.write=true"):
        load_config("smoke", ["rubrics.source=prompts", "rubrics.path=x.jsonl"])
