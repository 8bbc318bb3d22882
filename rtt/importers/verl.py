"""Prompts and rule-graded rubric items from verl-layout Parquet files, whose ground truth is the
IFEval pair (items as in `rtt.importers.ifeval`).

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
                in IFEval JSONL, or a JSON string of that list); its other keys are ignored. This
                is the layout verl-style IFEval preprocessors write; the pair is read from nowhere
                else.
  extra_info    struct or null (optional column). `split`: "train" -> train; "test", "eval",
                "val", "validation", "dev", "heldout" -> eval (any other value is an error); given
                on every row or on none. `index` (int or string): with data_source and split,
                it names the prompt.
  ability and other columns are ignored.
  prompt_id = "verl-" + stable_id(data_source, split, index) when extra_info.index is set, else
  "verl-" + stable_id(data_source, user message, instruction ids and kwargs): deterministic either
  way, and independent of `unknown_ids` and of which ids are registered.

Unknown instruction ids, prompts left with no item and repeated prompt ids are handled as in
IFEval JSONL (`rtt.importers.ifeval`).
"""

from __future__ import annotations

import json
import os
from collections import Counter

from rtt.data.store import stable_id
from rtt.importers.ifeval import parse_pair, rule_graded, rule_items
from rtt.importers.imported import ImportedPrompts, UnknownIds, check_arguments
from rtt.importers.rows import DatasetError, Row, Rows, parquet_table, parse_json, table_rows, type_name

SPLITS = {
    "train": "train",
    "test": "eval",
    "eval": "eval",
    "val": "eval",
    "validation": "eval",
    "dev": "eval",
    "heldout": "eval",
}
VERL_COLUMNS = ("data_source", "prompt", "reward_model")


def _verl_rows(path) -> Rows:
    table = parquet_table(path)
    missing = [c for c in VERL_COLUMNS if c not in table.column_names]
    if missing:
        raise DatasetError(
            path,
            None,
            None,
            f"missing columns {missing} (has {table.column_names}); "
            f"a verl file has {list(VERL_COLUMNS)} and optionally extra_info",
        )
    return table_rows(path, table)


def _user_message(row: Row, messages: object) -> tuple[str, bool]:
    """(content of the one user message, whether a system message was dropped)."""
    if not isinstance(messages, list) or not messages:
        raise row.error("prompt", f"must be a non-empty list of chat messages, got {type_name(messages)}")
    kept = []
    for i, message in enumerate(messages):
        if not isinstance(message, dict):
            raise row.error(f"prompt[{i}]", f"must be a message {{role, content}}, got {type_name(message)}")
        for key in ("role", "content"):
            if not isinstance(message.get(key), str):
                raise row.error(f"prompt[{i}].{key}", f"must be a string, got {type_name(message.get(key))}")
        if message["role"] != "system":
            kept.append((i, message))
    roles = [m["role"] for _, m in kept]
    if roles != ["user"]:
        raise row.error(
            "prompt",
            f"must hold one user message (besides system messages), got roles {roles}; "
            "multi-turn conversations are not supported",
        )
    index, message = kept[0]
    if not message["content"].strip():
        raise row.error(f"prompt[{index}].content", "empty")
    return message["content"], len(kept) < len(messages)


def _ground_truth(row: Row, reward_model: object) -> list[tuple[str, dict]]:
    prefix = "reward_model.ground_truth"
    if isinstance(reward_model, str):
        reward_model = parse_json(row, "reward_model", reward_model)
    if not isinstance(reward_model, dict):
        raise row.error("reward_model", f"must be a struct {{style, ground_truth}}, got {type_name(reward_model)}")
    truth = reward_model.get("ground_truth")
    if isinstance(truth, str):
        truth = parse_json(row, prefix, truth)
    if not isinstance(truth, dict) or "instruction_id_list" not in truth or "kwargs" not in truth:
        shown = sorted(truth) if isinstance(truth, dict) else type_name(truth)
        raise row.error(prefix, f"must be an object with instruction_id_list and kwargs, got {shown}")
    kwargs = truth["kwargs"]
    if isinstance(kwargs, str):
        kwargs = parse_json(row, f"{prefix}.kwargs", kwargs)
    return parse_pair(row, truth["instruction_id_list"], kwargs, prefix + ".")


def _extra_info(row: Row, extra: object) -> tuple[str | None, str | None, object]:
    """(our split, the file's split, index) from extra_info."""
    if extra is None:
        return None, None, None
    if not isinstance(extra, dict):
        raise row.error("extra_info", f"must be a struct, got {type_name(extra)}")
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


def _verl_prompt(row: Row, data: dict, unknown_ids: UnknownIds, skipped: Counter) -> tuple[str, dict | None, bool]:
    """(prompt id, prompt dict or None when every item was skipped, system message dropped)."""
    source = data["data_source"]
    if not isinstance(source, str) or not source:
        raise row.error("data_source", f"must be a non-empty string, got {source!r}")
    text, system_dropped = _user_message(row, data["prompt"])
    pairs = _ground_truth(row, data["reward_model"])
    split, raw_split, index = _extra_info(row, data.get("extra_info"))
    items = rule_items(row, pairs, unknown_ids, skipped, "reward_model.ground_truth.")
    prompt_id = _verl_prompt_id(source, raw_split, index, text, pairs)
    if not items:
        return prompt_id, None, system_dropped
    prompt = {"prompt_id": prompt_id, "prompt": text, "task": text, "source": source, "items": items}
    if split is not None:
        prompt["split"] = split
    return prompt_id, prompt, system_dropped


def _check_split_everywhere(row: Row, has_split: bool, first: tuple[str, bool]) -> None:
    """extra_info.split is given on every row or on none (`first`: where row 0 is, whether it has one)."""
    if has_split != first[1]:
        state = {True: "given", False: "missing"}
        raise row.error(
            "extra_info.split",
            f"{state[has_split]} here but {state[first[1]]} on {first[0]}: give it on every row or on none",
        )


def read_verl_parquet(
    path: str | os.PathLike, n_prompts: int = 0, unknown_ids: UnknownIds = "error"
) -> ImportedPrompts:
    """The prompts of a verl-layout Parquet file (see the module docstring): the whole file checked,
    then the first n_prompts, in file order (0: all)."""
    check_arguments(n_prompts, unknown_ids)
    prompts, seen, skipped, dropped, system_dropped = [], {}, Counter(), 0, 0
    for row, data in _verl_rows(path):
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
    return rule_graded(path, prompts, n_prompts, skipped, dropped, system_dropped)
