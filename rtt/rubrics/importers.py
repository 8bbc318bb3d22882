"""Prompts and rule-graded rubric items from instruction-following datasets on disk.

Both readers return what `rtt.rubrics.builtin.generate_prompts` returns, one dict per prompt in
file order, plus `source` (and `split` where the file gives one):

    {"prompt_id", "prompt", "task", "source", ["split",]
     "constraints": [{"instruction_id", "kwargs", "text"}, ...]}

`prompt` and `task` are both the user's message. Each constraint is one rule-graded rubric item:
`kwargs` are the dataset's with None-valued keys removed, and `text` is
`rtt.constraints.describe(instruction_id, kwargs)`, which also validates them.

IFEval JSONL (`read_ifeval_jsonl`): one JSON object per line, blank lines ignored, as in
google-research's `input_data.jsonl` and its Hugging Face copy (google/IFEval):

    {"key": 1000, "prompt": "Write ...", "instruction_id_list": ["punctuation:no_comma", ...],
     "kwargs": [{}, ...]}

  key                  int or non-empty string, unique in the file; prompt_id = "ifeval-<key>"
  prompt               non-empty string
  instruction_id_list  non-empty list of strings
  kwargs               list aligned with instruction_id_list; each entry an object (null = {}).
                       Keys whose value is null are absent (the HF copy pads every dict with the
                       union of all keys, as nulls). Other fields of the row are ignored.
  source = "ifeval"; no split.

verl Parquet (`read_verl_parquet`), the layout of volcengine/verl's examples/data_preprocess, one
row per prompt, read with pyarrow:

  data_source   string (required column); the prompts' `source`
  prompt        list of chat messages {role, content} (required column). System messages are
                dropped (the prompts table has no place for them; the count is reported); what
                remains must be exactly one message, of role user, whose content is the prompt.
                Multi-turn conversations are rejected.
  reward_model  struct or JSON object (required column) {style, ground_truth}; style is ignored.
                ground_truth is a struct/object or a JSON string of one, holding the IFEval pair
                `instruction_id_list` (list of strings) and `kwargs` (a list aligned with it, as
                above, or a JSON string of that list); its other keys are ignored. This is the
                layout verl-style IFEval preprocessors write; the pair is read from nowhere else.
  extra_info    struct or null (optional column). `split`: "train" -> train; "test", "eval",
                "val", "validation", "dev", "heldout" -> eval (any other value is an error); given
                on every row or on none. `index` (int or string): with data_source and split,
                it names the prompt.
  ability and other columns are ignored.
  prompt_id = "verl-" + stable_id(data_source, split, index) when extra_info.index is set, else
  "verl-" + stable_id(data_source, user message, instruction ids and kwargs): deterministic either
  way, and independent of `unknown_ids` and of which ids are registered.

Every problem raises DatasetError naming the file, the place (`line N`, 1-based, for JSONL;
`row N`, 0-based as in pyarrow/pandas, for Parquet) and the field, e.g.

    data.jsonl: line 3: kwargs[2].num_words: length_constraints:number_words: kwarg 'num_words' must be int, got 'many'
    train.parquet: row 0: reward_model.ground_truth: invalid JSON: Expecting value: line 1 column 1 (char 0)

An instruction id missing from the registry is an error with `unknown_ids="error"`; with
`unknown_ids="skip"` its item is dropped (its kwargs unchecked), a prompt left with no item is
dropped too, and the result carries the counts (`ImportedPrompts.skipped_ids`, `skipped_prompts`).
A prompt with no instruction at all in the file is an error, and so is a repeated prompt id.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections import Counter
from typing import Literal

import pyarrow as pa
import pyarrow.parquet as pq

from rtt.constraints import describe, registry
from rtt.data.store import stable_id

log = logging.getLogger(__name__)

UnknownIds = Literal["error", "skip"]
SPLITS = {"train": "train", "test": "eval", "eval": "eval", "val": "eval", "validation": "eval",
          "dev": "eval", "heldout": "eval"}
VERL_COLUMNS = ("data_source", "prompt", "reward_model")


class DatasetError(ValueError):
    """A dataset file that cannot be imported; the message names the file, row and field."""

    def __init__(self, path: str | os.PathLike, where: str | None, field: str | None, problem: str):
        self.path, self.where, self.field, self.problem = str(path), where, field, problem
        super().__init__(": ".join(part for part in (self.path, where, field, problem) if part))


class ImportedPrompts(list):
    """The imported prompts (a list of dicts), with what was left out of them."""

    def __init__(self, prompts=(), skipped_ids: Counter | None = None, skipped_prompts: int = 0,
                 system_dropped: int = 0):
        super().__init__(prompts)
        self.skipped_ids: dict[str, int] = dict(sorted((skipped_ids or Counter()).items()))
        """Unknown instruction id -> items dropped (unknown_ids="skip")."""
        self.skipped_prompts = skipped_prompts
        """Prompts dropped because all their items were."""
        self.system_dropped = system_dropped
        """Prompts whose system message was dropped (verl)."""

    @property
    def skipped_items(self) -> int:
        return sum(self.skipped_ids.values())


class _Row:
    """Where a row is, to build its errors."""

    def __init__(self, path, where: str):
        self.path, self.where = path, where

    def error(self, field: str | None, problem: str) -> DatasetError:
        return DatasetError(self.path, self.where, field, problem)


# --- shared: the IFEval pair -> constraints ---------------------------------------------------

def _type(value: object) -> str:
    return "null" if value is None else type(value).__name__


def _json(row: _Row, field: str, text: str) -> object:
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise row.error(field, f"invalid JSON: {err}") from None


def _parse_pair(row: _Row, ids: object, kwargs: object, prefix: str = "") -> list[tuple[str, dict]]:
    """(instruction_id, kwargs without None values) per instruction; structure only, ids unchecked."""
    ids_field, kwargs_field = f"{prefix}instruction_id_list", f"{prefix}kwargs"
    if not isinstance(ids, list) or not ids:
        raise row.error(ids_field, f"must be a non-empty list of instruction ids, got {ids!r}"[:300])
    if not isinstance(kwargs, list):
        raise row.error(kwargs_field, f"must be a list of objects, got {_type(kwargs)}")
    if len(kwargs) != len(ids):
        raise row.error(kwargs_field, f"has {len(kwargs)} entries but instruction_id_list has {len(ids)}")
    pairs = []
    for i, (instruction_id, given) in enumerate(zip(ids, kwargs)):
        if not isinstance(instruction_id, str):
            raise row.error(f"{ids_field}[{i}]", f"must be a string, got {_type(instruction_id)}")
        if given is not None and not isinstance(given, dict):
            raise row.error(f"{kwargs_field}[{i}]", f"must be an object, got {_type(given)}")
        pairs.append((instruction_id, {k: v for k, v in (given or {}).items() if v is not None}))
    return pairs


def _constraint(row: _Row, field: str, instruction_id: str, kwargs: dict) -> dict:
    try:
        text = describe(instruction_id, kwargs)
    except ValueError as err:
        key = re.search(r"kwargs? '([^']+)'", str(err))
        raise row.error(f"{field}.{key.group(1)}" if key else field, str(err)) from None
    return {"instruction_id": instruction_id, "kwargs": kwargs, "text": text}


def _constraints(row: _Row, pairs: list[tuple[str, dict]], unknown_ids: UnknownIds, skipped: Counter,
                 prefix: str = "") -> list[dict]:
    """Validated constraints; unknown ids raise or are counted in `skipped`."""
    out = []
    for i, (instruction_id, kwargs) in enumerate(pairs):
        if instruction_id not in registry.REGISTRY:
            if unknown_ids == "skip":
                skipped[instruction_id] += 1
                continue
            raise row.error(f"{prefix}instruction_id_list[{i}]", f"unknown instruction id {instruction_id!r} "
                            f"(unknown_ids='skip' drops such items)")
        out.append(_constraint(row, f"{prefix}kwargs[{i}]", instruction_id, kwargs))
    return out


def _check_mode(unknown_ids: str) -> None:
    if unknown_ids not in ("error", "skip"):
        raise ValueError(f"unknown_ids must be 'error' or 'skip', got {unknown_ids!r}")


def _finish(path, prompts: list[dict], skipped: Counter, dropped: int, system_dropped: int = 0) -> ImportedPrompts:
    if skipped:
        log.warning("%s: skipped %d items with unknown ids: %s (%d prompts left with none)",
                    path, sum(skipped.values()), dict(sorted(skipped.items())), dropped)
    return ImportedPrompts(prompts, skipped, dropped, system_dropped)


# --- IFEval JSONL ------------------------------------------------------------------------------

def _jsonl_rows(path):
    """(1-based line number, parsed object) per non-blank line."""
    try:
        handle = open(path, "rb")
    except OSError as err:
        raise DatasetError(path, None, None, f"cannot open: {err.strerror or err}") from None
    with handle:
        for number, raw in enumerate(handle, 1):
            row = _Row(path, f"line {number}")
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as err:
                raise row.error(None, f"not UTF-8: {err}") from None
            if not text.strip():
                continue
            data = _json(row, None, text)
            if not isinstance(data, dict):
                raise row.error(None, f"must be a JSON object, got {_type(data)}")
            yield row, data


def _require(row: _Row, data: dict, field: str) -> object:
    if field not in data or data[field] is None:
        raise row.error(field, "missing")
    return data[field]


def _ifeval_prompt(row: _Row, data: dict, unknown_ids: UnknownIds, skipped: Counter) -> tuple[str, dict | None]:
    """(prompt id, prompt dict or None when every item was skipped)."""
    key = _require(row, data, "key")
    if isinstance(key, bool) or not isinstance(key, (int, str)) or key == "":
        raise row.error("key", f"must be an integer or a non-empty string, got {key!r}")
    text = _require(row, data, "prompt")
    if not isinstance(text, str) or not text.strip():
        raise row.error("prompt", f"must be a non-empty string, got {text!r}"[:300])
    pairs = _parse_pair(row, _require(row, data, "instruction_id_list"), _require(row, data, "kwargs"))
    constraints = _constraints(row, pairs, unknown_ids, skipped)
    prompt_id = f"ifeval-{key}"
    if not constraints:
        return prompt_id, None
    return prompt_id, {"prompt_id": prompt_id, "prompt": text, "task": text, "source": "ifeval",
                       "constraints": constraints}


def read_ifeval_jsonl(path: str | os.PathLike, unknown_ids: UnknownIds = "error") -> ImportedPrompts:
    """The prompts of an IFEval-format JSONL file (see the module docstring), in file order."""
    _check_mode(unknown_ids)
    prompts, seen, skipped, dropped = [], {}, Counter(), 0
    for row, data in _jsonl_rows(path):
        prompt_id, prompt = _ifeval_prompt(row, data, unknown_ids, skipped)
        if prompt_id in seen:
            raise row.error("key", f"duplicate key {data['key']!r} (also on {seen[prompt_id]})")
        seen[prompt_id] = row.where
        if prompt is None:
            dropped += 1
        else:
            prompts.append(prompt)
    return _finish(path, prompts, skipped, dropped)


# --- verl Parquet ------------------------------------------------------------------------------

def read_parquet(path) -> pa.Table:
    """The Parquet file as a table, or DatasetError naming the file."""
    try:
        return pq.read_table(path)
    except FileNotFoundError:
        raise DatasetError(path, None, None, "file not found") from None
    except (OSError, pa.ArrowException) as err:
        raise DatasetError(path, None, None, f"cannot read as Parquet: {err}") from None


def _parquet_rows(path) -> list[dict]:
    table = read_parquet(path)
    missing = [c for c in VERL_COLUMNS if c not in table.column_names]
    if missing:
        raise DatasetError(path, None, None, f"missing columns {missing} (has {table.column_names}); "
                           f"a verl file has {list(VERL_COLUMNS)} and optionally extra_info")
    return table.to_pylist()


def _user_message(row: _Row, messages: object) -> tuple[str, bool]:
    """(content of the one user message, whether a system message was dropped)."""
    if not isinstance(messages, list) or not messages:
        raise row.error("prompt", f"must be a non-empty list of chat messages, got {_type(messages)}")
    kept = []
    for i, message in enumerate(messages):
        if not isinstance(message, dict):
            raise row.error(f"prompt[{i}]", f"must be a message {{role, content}}, got {_type(message)}")
        for key in ("role", "content"):
            if not isinstance(message.get(key), str):
                raise row.error(f"prompt[{i}].{key}", f"must be a string, got {_type(message.get(key))}")
        if message["role"] != "system":
            kept.append((i, message))
    roles = [m["role"] for _, m in kept]
    if roles != ["user"]:
        raise row.error("prompt", f"must hold one user message (besides system messages), got roles {roles}; "
                        "multi-turn conversations are not supported")
    index, message = kept[0]
    if not message["content"].strip():
        raise row.error(f"prompt[{index}].content", "empty")
    return message["content"], len(kept) < len(messages)


def _ground_truth(row: _Row, reward_model: object) -> list[tuple[str, dict]]:
    prefix = "reward_model.ground_truth"
    if isinstance(reward_model, str):
        reward_model = _json(row, "reward_model", reward_model)
    if not isinstance(reward_model, dict):
        raise row.error("reward_model", f"must be a struct {{style, ground_truth}}, got {_type(reward_model)}")
    truth = reward_model.get("ground_truth")
    if isinstance(truth, str):
        truth = _json(row, prefix, truth)
    if not isinstance(truth, dict) or "instruction_id_list" not in truth or "kwargs" not in truth:
        shown = sorted(truth) if isinstance(truth, dict) else _type(truth)
        raise row.error(prefix, f"must be an object with instruction_id_list and kwargs, got {shown}")
    kwargs = truth["kwargs"]
    if isinstance(kwargs, str):
        kwargs = _json(row, f"{prefix}.kwargs", kwargs)
    return _parse_pair(row, truth["instruction_id_list"], kwargs, prefix + ".")


def _extra_info(row: _Row, extra: object) -> tuple[str | None, str | None, object]:
    """(our split, the file's split, index) from extra_info."""
    if extra is None:
        return None, None, None
    if not isinstance(extra, dict):
        raise row.error("extra_info", f"must be a struct, got {_type(extra)}")
    split, index = extra.get("split"), extra.get("index")
    if split is not None and (not isinstance(split, str) or split.lower() not in SPLITS):
        raise row.error("extra_info.split", f"must be one of {sorted(SPLITS)}, got {split!r}")
    if index is not None and (isinstance(index, bool) or not isinstance(index, (int, str))):
        raise row.error("extra_info.index", f"must be an integer or a string, got {index!r}")
    return (SPLITS[split.lower()] if split else None), split, index


def _verl_prompt_id(source: str, raw_split, index, text: str, pairs) -> str:
    if index is not None:
        return "verl-" + stable_id(source, raw_split or "", index)
    return "verl-" + stable_id(source, text, json.dumps(pairs, sort_keys=True))


def _verl_prompt(row: _Row, data: dict, unknown_ids: UnknownIds, skipped: Counter) -> tuple[str, dict | None, bool]:
    """(prompt id, prompt dict or None when every item was skipped, system message dropped)."""
    source = data["data_source"]
    if not isinstance(source, str) or not source:
        raise row.error("data_source", f"must be a non-empty string, got {source!r}")
    text, system_dropped = _user_message(row, data["prompt"])
    pairs = _ground_truth(row, data["reward_model"])
    split, raw_split, index = _extra_info(row, data.get("extra_info"))
    constraints = _constraints(row, pairs, unknown_ids, skipped, "reward_model.ground_truth.")
    prompt_id = _verl_prompt_id(source, raw_split, index, text, pairs)
    if not constraints:
        return prompt_id, None, system_dropped
    prompt = {"prompt_id": prompt_id, "prompt": text, "task": text, "source": source, "constraints": constraints}
    if split is not None:
        prompt["split"] = split
    return prompt_id, prompt, system_dropped


def _check_split_everywhere(row: _Row, has_split: bool, first: tuple[str, bool]) -> None:
    """extra_info.split is given on every row or on none (`first`: where row 0 is, whether it has one)."""
    if has_split != first[1]:
        state = {True: "given", False: "missing"}
        raise row.error("extra_info.split", f"{state[has_split]} here but {state[first[1]]} on {first[0]}: "
                        "give it on every row or on none")


def read_verl_parquet(path: str | os.PathLike, unknown_ids: UnknownIds = "error") -> ImportedPrompts:
    """The prompts of a verl-layout Parquet file (see the module docstring), in file order."""
    _check_mode(unknown_ids)
    prompts, seen, skipped, dropped, system_dropped = [], {}, Counter(), 0, 0
    for number, data in enumerate(_parquet_rows(path)):
        row = _Row(path, f"row {number}")
        prompt_id, prompt, system = _verl_prompt(row, data, unknown_ids, skipped)
        extra = data.get("extra_info") or {}
        if prompt_id in seen:
            field = "extra_info.index" if extra.get("index") is not None else "prompt"
            raise row.error(field, f"duplicate prompt {prompt_id} (same as {seen[prompt_id][0]})")
        seen[prompt_id] = (row.where, extra.get("split") is not None)
        _check_split_everywhere(row, seen[prompt_id][1], next(iter(seen.values())))
        system_dropped += system
        if prompt is None:
            dropped += 1
        else:
            prompts.append(prompt)
    return _finish(path, prompts, skipped, dropped, system_dropped)
