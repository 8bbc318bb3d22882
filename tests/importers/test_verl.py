"""verl Parquet import (`rtt.importers.verl`), and the rubrics stage reading such a file."""

from __future__ import annotations

import functools
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from rtt.constraints import describe
from rtt.data.items import load_prompts
from rtt.importers.verl import read_verl_parquet
from rtt.rubrics.stage import run_rubrics
from rtt.stage_context import StageContext
from rtt.tracking import Tracker

WORDS = {"relation": "at least", "num_words": 300}
# no arguments, in Parquet: a struct needs a field, so Arrow pads it as HF does
NO_ARGS = {"num_words": None}


def verl_row(
    ids,
    kwargs,
    content="Write about the sea.",
    source="google/IFEval",
    split="train",
    index=0,
    system=None,
    ground_truth_as="struct",
) -> dict:
    truth = {"instruction_id_list": ids, "kwargs": kwargs}
    messages = ([{"role": "system", "content": system}] if system else []) + [{"role": "user", "content": content}]
    return {
        "data_source": source,
        "prompt": messages,
        "ability": "instruction_following",
        "reward_model": {"style": "rule", "ground_truth": json.dumps(truth) if ground_truth_as == "json" else truth},
        "extra_info": {"split": split, "index": index},
    }


# --- verl Parquet ------------------------------------------------------------------------------


def test_verl_parquet_struct_and_json_ground_truth(write_parquet):
    rows = [
        verl_row(
            ["punctuation:no_comma", "length_constraints:number_words"],
            [{}, WORDS],
            index=0,
            system="You are a helpful assistant.",
        ),
        verl_row(["keywords:existence"], [{"keywords": ["sea"]}], content="Describe waves.", split="test", index=1),
    ]
    as_struct = write_parquet(rows, "struct.parquet")
    as_json = write_parquet(
        [
            verl_row(
                r["reward_model"]["ground_truth"]["instruction_id_list"],
                r["reward_model"]["ground_truth"]["kwargs"],
                content=r["prompt"][-1]["content"],
                split=r["extra_info"]["split"],
                index=r["extra_info"]["index"],
                ground_truth_as="json",
            )
            for r in rows
        ],
        "json.parquet",
    )
    assert pq.read_schema(as_struct).field("reward_model").type.field("ground_truth").type.field(
        "kwargs"
    ).type == pa.list_(
        pa.struct([("relation", pa.string()), ("num_words", pa.int64()), ("keywords", pa.list_(pa.string()))])
    )
    prompts = read_verl_parquet(as_struct)
    assert prompts == read_verl_parquet(as_json)  # same prompts, same ids
    first, second = prompts
    assert first["prompt"] == first["task"] == "Write about the sea."  # the system message is dropped...
    assert prompts.system_dropped == 1  # ...and counted
    assert first["source"] == "google/IFEval" and first["split"] == "train" and second["split"] == "eval"
    assert first["items"][1] == {
        "text": "The response has at least 300 words.",
        "weight": 1.0,
        "kind": "rule",
        "checker": "length_constraints:number_words",
        "kwargs": WORDS,
        "pitfall": False,
        "category": None,
        "points": None,
    }
    assert [(i["checker"], i["kwargs"], i["text"]) for i in second["items"]] == [
        ("keywords:existence", {"keywords": ["sea"]}, describe("keywords:existence", {"keywords": ["sea"]}))
    ]
    assert first["prompt_id"].startswith("verl-") and first["prompt_id"] != second["prompt_id"]


def test_verl_parquet_kwargs_as_json_string_and_ids_without_index(write_parquet):
    row = verl_row(["length_constraints:number_words"], [WORDS])
    row["reward_model"]["ground_truth"]["kwargs"] = json.dumps([WORDS])
    row["extra_info"] = None
    path = write_parquet([row])
    [prompt] = read_verl_parquet(path)
    assert prompt["items"][0]["kwargs"] == WORDS and "split" not in prompt
    row["prompt"][0]["content"] = "Another prompt."
    [other] = read_verl_parquet(write_parquet([row], "other.parquet"))
    assert other["prompt_id"] != prompt["prompt_id"]  # no index: the id hashes the content
    no_extra = {k: v for k, v in row.items() if k != "extra_info"}
    assert read_verl_parquet(write_parquet([no_extra], "bare.parquet")) == [other]


def test_verl_parquet_ids_name_source_split_and_index(write_parquet):
    row = verl_row(["punctuation:no_comma"], [NO_ARGS], index=5)
    [a] = read_verl_parquet(write_parquet([row], "a.parquet"))
    row["prompt"][0]["content"] = "Edited."
    [b] = read_verl_parquet(write_parquet([row], "b.parquet"))
    row["extra_info"]["split"] = "test"
    [c] = read_verl_parquet(write_parquet([row], "c.parquet"))
    assert a["prompt_id"] == b["prompt_id"] != c["prompt_id"]  # index-based: content edits keep it


def verl_bad(write_parquet, **changes) -> Path:
    """A two-row verl file whose row 1 has `changes` applied (dotted keys reach into structs)."""
    bad = verl_row(["punctuation:no_comma", "length_constraints:number_words"], [{}, WORDS], index=1)
    for dotted, value in changes.items():
        *parents, last = dotted.split("__")
        node = bad
        for key in parents:
            node = node[key]
        node[last] = value
    good = verl_row(["punctuation:no_comma"], [NO_ARGS], index=0)
    rows = [good, bad]
    if "reward_model__ground_truth" in changes and isinstance(changes["reward_model__ground_truth"], str):
        good["reward_model"]["ground_truth"] = json.dumps(good["reward_model"]["ground_truth"])
    return write_parquet(rows)


@pytest.mark.parametrize(
    "changes, field, problem",
    [
        ({"data_source": ""}, "data_source", "must be a non-empty string"),
        ({"data_source": None}, "data_source", "must be a non-empty string"),
        ({"prompt": []}, "prompt", "must be a non-empty list of chat messages"),
        ({"prompt": [{"role": "user", "content": None}]}, "prompt[0].content", "must be a string, got null"),
        ({"prompt": [{"role": None, "content": "hi"}]}, "prompt[0].role", "must be a string"),
        ({"prompt": [{"role": "user", "content": "  "}]}, "prompt[0].content", "empty"),
        ({"prompt": [{"role": "system", "content": "Be nice."}]}, "prompt", "got roles []"),
        (
            {
                "prompt": [
                    {"role": "user", "content": "a"},
                    {"role": "assistant", "content": "b"},
                    {"role": "user", "content": "c"},
                ]
            },
            "prompt",
            "multi-turn conversations are not supported",
        ),
        ({"reward_model": None}, "reward_model", "must be a struct {style, ground_truth}, got null"),
        ({"reward_model__ground_truth": "not json"}, "reward_model.ground_truth", "invalid JSON"),
        (
            {"reward_model__ground_truth": json.dumps([{}, WORDS])},
            "reward_model.ground_truth",
            "must be an object with instruction_id_list and kwargs, got list",
        ),
        (
            {"reward_model__ground_truth": json.dumps({"instruction_id_list": ["punctuation:no_comma"]})},
            "reward_model.ground_truth",
            "got ['instruction_id_list']",
        ),
        (
            {
                "reward_model__ground_truth": json.dumps(
                    {"instruction_id_list": ["punctuation:no_comma"], "kwargs": "[{"}
                )
            },
            "reward_model.ground_truth.kwargs",
            "invalid JSON",
        ),
        (
            {"reward_model__ground_truth__kwargs": [{}]},
            "reward_model.ground_truth.kwargs",
            "has 1 entries but instruction_id_list has 2",
        ),
        (
            {"reward_model__ground_truth__instruction_id_list": ["punctuation:no_comma", "no:such_id"]},
            "reward_model.ground_truth.instruction_id_list[1]",
            "unknown instruction id 'no:such_id'",
        ),
        (
            {"reward_model__ground_truth__kwargs": [{}, {"relation": "at least", "num_words": -1.5}]},
            "reward_model.ground_truth.kwargs[1].num_words",
            "must be int",
        ),
        ({"extra_info__split": "holdout"}, "extra_info.split", "must be one of"),
        ({"extra_info__split": None}, "extra_info.split", "missing here but given on row 0"),
        ({"extra_info__index": 0}, "extra_info.index", "same as row 0"),
    ],
)
def test_verl_parquet_bad_rows_name_the_row_and_field(write_parquet, raises_at, changes, field, problem):
    path = verl_bad(write_parquet, **changes)
    err = raises_at(lambda: read_verl_parquet(path), path, "row 1", field)
    assert problem in err.problem


def test_verl_parquet_row_level_type_errors(write_parquet, raises_at):
    # types that cannot share a column with good rows: one-row files
    cases = [
        ({"prompt": "Write about the sea."}, "prompt", "got str"),
        ({"extra_info": {"split": "train", "index": 1.5}}, "extra_info.index", "must be an integer or a string"),
        ({"extra_info": "train"}, "extra_info", "must be a struct, got str"),
    ]
    for change, field, problem in cases:
        row = {**verl_row(["punctuation:no_comma"], [NO_ARGS]), **change}
        path = write_parquet([row], f"{field}.parquet")
        assert problem in raises_at(functools.partial(read_verl_parquet, path), path, "row 0", field).problem
    row = verl_row(["punctuation:no_comma"], [NO_ARGS])
    row["extra_info"] = None
    path = write_parquet([row, row], "dup.parquet")
    assert "same as row 0" in raises_at(lambda: read_verl_parquet(path), path, "row 1", "prompt").problem


def test_verl_parquet_file_level_problems(tmp_path, write_parquet, raises_at):
    missing = tmp_path / "nope.parquet"
    assert raises_at(lambda: read_verl_parquet(missing), missing, None, None).problem == "file not found"
    text = tmp_path / "text.parquet"
    text.write_text("not parquet")
    assert "cannot read as Parquet" in raises_at(lambda: read_verl_parquet(text), text, None, None).problem
    path = write_parquet([{"data_source": "x", "prompt": [{"role": "user", "content": "hi"}]}])
    assert "missing columns ['reward_model']" in raises_at(lambda: read_verl_parquet(path), path, None, None).problem


def test_verl_parquet_unknown_ids_skip(write_parquet):
    path = write_parquet(
        [
            verl_row(["punctuation:no_comma", "x:made_up"], [NO_ARGS, {}], index=0),
            verl_row(["x:made_up"], [{}], index=1),
        ]
    )
    prompts = read_verl_parquet(path, unknown_ids="skip")
    assert len(prompts) == 1 and len(prompts[0]["items"]) == 1
    assert prompts.skipped_ids == {"x:made_up": 2} and prompts.skipped_prompts == 1


# --- in the rubrics stage ----------------------------------------------------------------------


def test_stage_keeps_the_verl_files_split(write_parquet, stage_config, store):
    rows = [
        verl_row(
            ["length_constraints:number_words"],
            [WORDS],
            content=f"P{i}.",
            index=i,
            split="test" if i % 4 == 0 else "train",
            system="Be brief.",
        )
        for i in range(10)
    ]
    path = write_parquet(rows)
    summary = run_rubrics(
        StageContext(stage_config("verl_parquet", path, "rubrics.n_prompts=0"), store, Tracker(), "v-1")
    )
    assert (summary["prompts_train"], summary["prompts_eval"], summary["split_from"]) == (7, 3, "file")
    assert summary["system_messages_dropped"] == 10
    prompts = load_prompts(store, "v-1")
    assert {p["source"] for p in prompts} == {"google/IFEval"}
    assert sorted(p["prompt"] for p in prompts if p["split"] == "eval") == ["P0.", "P4.", "P8."]
    # a file of one split (verl writes train.parquet and test.parquet) is split by eval_fraction
    one = write_parquet(
        [{**r, "extra_info": {"split": "train", "index": i}} for i, r in enumerate(rows)], "train.parquet"
    )
    summary = run_rubrics(
        StageContext(
            stage_config("verl_parquet", one, "rubrics.n_prompts=0", "rubrics.eval_fraction=0.2"),
            store,
            Tracker(),
            "v-2",
        )
    )
    assert (summary["prompts_train"], summary["prompts_eval"], summary["split_from"]) == (8, 2, "eval_fraction")
