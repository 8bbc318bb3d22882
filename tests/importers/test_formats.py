"""The registry of dataset formats (`rtt.importers`): one reader signature, `read`, the first
n_prompts of every format, the import's report, and the config's sources."""

from __future__ import annotations

import inspect
import json
from typing import get_args

import pytest

from rtt.config import ConfigError, RubricsConfig, load_config
from rtt.importers import FORMATS, DatasetError, read
from rtt.importers.ifeval import read_ifeval_jsonl
from rtt.importers.plain import read_prompts
from rtt.importers.rubric_sets import read_healthbench, read_rar, read_rubrichub
from rtt.importers.verl import read_verl_parquet


def test_readers_by_format_name():
    assert FORMATS == {
        "ifeval_jsonl": read_ifeval_jsonl,
        "verl_parquet": read_verl_parquet,
        "rar": read_rar,
        "rubrichub": read_rubrichub,
        "healthbench": read_healthbench,
        "prompts": read_prompts,
    }


def test_config_sources_are_the_generators_and_the_formats():
    assert get_args(RubricsConfig.model_fields["source"].annotation) == ("builtin", "testbed", *FORMATS)


def test_config_requires_a_path_for_imports():
    for source in FORMATS:
        with pytest.raises(ConfigError, match=rf"rubrics\.path .*required when rubrics\.source is '{source}'"):
            load_config("smoke", [f"rubrics.source={source}"])
    assert load_config("smoke", ["rubrics.source=verl_parquet", "rubrics.path=x.parquet"]).rubrics.path == "x.parquet"
    assert RubricsConfig().source == "builtin" and RubricsConfig().path is None
    with pytest.raises(ConfigError, match=r"rubrics\.unknown_ids"):
        load_config("smoke", ["rubrics.unknown_ids=ignore"])
    with pytest.raises(ConfigError, match=r"n_prompts must be >= 0"):
        load_config("smoke", ["rubrics.n_prompts=-1"])


@pytest.mark.parametrize("name", list(FORMATS))
def test_every_reader_has_one_signature(name):
    parameters = inspect.signature(FORMATS[name]).parameters
    assert [(p.name, p.default) for p in parameters.values()] == [
        ("path", inspect.Parameter.empty),
        ("n_prompts", 0),
        ("unknown_ids", "error"),
    ]


@pytest.mark.parametrize("name", list(FORMATS))
def test_arguments_are_checked_before_the_file_is_read(tmp_path, name):
    missing = tmp_path / "missing.jsonl"
    for n_prompts in (-1, True, 1.5):
        with pytest.raises(ValueError, match="n_prompts must be an integer >= 0") as info:
            read(name, missing, n_prompts)
        assert type(info.value) is ValueError
    with pytest.raises(ValueError, match="unknown_ids must be 'error' or 'skip'") as info:
        read(name, missing, 0, "ignore")
    assert type(info.value) is ValueError
    with pytest.raises(DatasetError):
        read(name, missing)


def test_read_rejects_an_unknown_format(tmp_path):
    with pytest.raises(ValueError, match="unknown dataset format 'csv'; formats: ifeval_jsonl, verl_parquet"):
        read("csv", tmp_path / "data.csv")


NO_COMMA = {"instruction_id_list": ["punctuation:no_comma"], "kwargs": [{}]}


def three_rows(name: str) -> list[dict]:
    """Three valid rows of format `name` (one item each; RubricHub's are pitfalls)."""
    rows = {
        "ifeval_jsonl": lambda k: {
            "key": k,
            "prompt": f"P{k}.",
            "instruction_id_list": ["punctuation:no_comma"],
            "kwargs": [{}],
        },
        "verl_parquet": lambda k: {
            "data_source": "d",
            "prompt": [{"role": "user", "content": f"P{k}."}],
            "reward_model": {"style": "rule", "ground_truth": json.dumps(NO_COMMA)},
        },
        "rar": lambda k: {"question": f"Q{k}?", "rubric": [{"description": "Essential Criteria: Does A."}]},
        "rubrichub": lambda k: {"prompt": f"P{k}.", "rubrics": [{"criterion": "Rambles.", "points": -2}]},
        "healthbench": lambda k: {
            "prompt_id": f"h{k}",
            "prompt": f"P{k}.",
            "rubrics": [{"criterion": "Asks.", "points": 3}],
        },
        "prompts": lambda k: {"id": f"q{k}", "prompt": f"P{k}."},
    }[name]
    return [rows(k) for k in range(3)]


@pytest.mark.parametrize("name", list(FORMATS))
def test_n_prompts_keeps_the_first_n_of_every_format_and_the_report(name, write_jsonl, write_parquet):
    path = (write_parquet if name == "verl_parquet" else write_jsonl)(three_rows(name))
    everything, first_two = read(name, path), read(name, path, n_prompts=2)
    assert len(everything) == 3 and list(first_two) == everything[:2] and read(name, path, 5) == everything
    items = {"ifeval_jsonl": 2, "verl_parquet": 2, "rar": 2, "rubrichub": 2, "healthbench": 2, "prompts": 0}[name]
    if name in ("ifeval_jsonl", "verl_parquet"):  # rule-graded: what was skipped, counted over the whole file
        assert first_two.report() == {
            "dataset": str(path),
            "prompts_in_file": 3,
            "skipped_items": 0,
            "skipped_prompts": 0,
            "skipped_ids": {},
            "system_messages_dropped": 0,
        }
    else:  # LLM-graded: the items and pitfalls taken
        pitfalls = items if name == "rubrichub" else 0
        assert first_two.report() == {"dataset": str(path), "items": items, "pitfalls": pitfalls}
    assert all(
        set(i) == {"text", "weight", "kind", "checker", "kwargs", "pitfall", "category", "points"}
        for p in everything
        for i in p["items"]
    )
