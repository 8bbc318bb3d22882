"""Prompts and rule-graded rubric items from IFEval-format JSONL files, and the IFEval pair
(instruction_id_list, kwargs) that verl files hold too (`rtt.importers.verl`).

One prompt per row, in file order, {"prompt_id", "prompt", "task", "source", ["split",] "items"}:
`prompt` and `task` are both the user's message. Each instruction is one rule-graded rubric item
(`rtt.importers.items.rule_item`) whose checker is the instruction id: `kwargs` are the dataset's
with None-valued keys removed, and `text` is `rtt.constraints.describe(instruction_id, kwargs)`,
which also validates them.

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

An instruction id missing from the registry is an error with `unknown_ids="error"`; with
`unknown_ids="skip"` its item is dropped (its kwargs unchecked), a prompt left with no item is
dropped too, and the result carries the counts (`ImportedPrompts.skipped_ids`, `skipped_prompts`).
A prompt with no instruction at all in the file is an error, and so is a repeated prompt id.
"""

from __future__ import annotations

import logging
import os
import re
from collections import Counter

from rtt.constraints import describe, registry
from rtt.importers.imported import ImportedPrompts, UnknownIds, check_arguments
from rtt.importers.items import rule_item
from rtt.importers.rows import Row, jsonl_rows, nonempty, required, type_name

log = logging.getLogger(__name__)


# --- the IFEval pair -> rule-graded items (IFEval, verl) ---------------------------------------


def parse_pair(row: Row, ids: object, kwargs: object, prefix: str = "") -> list[tuple[str, dict]]:
    """(instruction_id, kwargs without None values) per instruction; structure only, ids unchecked."""
    ids_field, kwargs_field = f"{prefix}instruction_id_list", f"{prefix}kwargs"
    if not isinstance(ids, list) or not ids:
        raise row.error(ids_field, f"must be a non-empty list of instruction ids, got {ids!r}"[:300])
    if not isinstance(kwargs, list):
        raise row.error(kwargs_field, f"must be a list of objects, got {type_name(kwargs)}")
    if len(kwargs) != len(ids):
        raise row.error(kwargs_field, f"has {len(kwargs)} entries but instruction_id_list has {len(ids)}")
    pairs = []
    for i, (instruction_id, given) in enumerate(zip(ids, kwargs)):
        if not isinstance(instruction_id, str):
            raise row.error(f"{ids_field}[{i}]", f"must be a string, got {type_name(instruction_id)}")
        if given is not None and not isinstance(given, dict):
            raise row.error(f"{kwargs_field}[{i}]", f"must be an object, got {type_name(given)}")
        pairs.append((instruction_id, {k: v for k, v in (given or {}).items() if v is not None}))
    return pairs


def _constraint(row: Row, field: str, instruction_id: str, kwargs: dict) -> dict:
    try:
        text = describe(instruction_id, kwargs)
    except ValueError as err:
        key = re.search(r"kwargs? '([^']+)'", str(err))
        raise row.error(f"{field}.{key.group(1)}" if key else field, str(err)) from None
    return {"instruction_id": instruction_id, "kwargs": kwargs, "text": text}


def rule_items(
    row: Row, pairs: list[tuple[str, dict]], unknown_ids: UnknownIds, skipped: Counter, prefix: str = ""
) -> list[dict]:
    """Validated rule-graded items; unknown ids raise or are counted in `skipped`."""
    out = []
    for i, (instruction_id, kwargs) in enumerate(pairs):
        if instruction_id not in registry.REGISTRY:
            if unknown_ids == "skip":
                skipped[instruction_id] += 1
                continue
            raise row.error(
                f"{prefix}instruction_id_list[{i}]",
                f"unknown instruction id {instruction_id!r} (unknown_ids='skip' drops such items)",
            )
        out.append(rule_item(_constraint(row, f"{prefix}kwargs[{i}]", instruction_id, kwargs)))
    return out


def rule_graded(
    path, prompts: list[dict], n_prompts: int, skipped: Counter, dropped: int, system_dropped: int = 0
) -> ImportedPrompts:
    """The imported prompts of a rule-graded file; what was skipped is logged."""
    if skipped:
        log.warning(
            "%s: skipped %d items with unknown ids: %s (%d prompts left with none)",
            path,
            sum(skipped.values()),
            dict(sorted(skipped.items())),
            dropped,
        )
    return ImportedPrompts(path, "rule", prompts, n_prompts, skipped, dropped, system_dropped)


# --- IFEval JSONL ------------------------------------------------------------------------------


def _ifeval_prompt(row: Row, data: dict, unknown_ids: UnknownIds, skipped: Counter) -> tuple[str, dict | None]:
    """(prompt id, prompt dict or None when every item was skipped)."""
    key = required(row, data, "key")
    if isinstance(key, bool) or not isinstance(key, (int, str)) or key == "":
        raise row.error("key", f"must be an integer or a non-empty string, got {key!r}")
    text = nonempty(row, "prompt", required(row, data, "prompt"))
    pairs = parse_pair(row, required(row, data, "instruction_id_list"), required(row, data, "kwargs"))
    items = rule_items(row, pairs, unknown_ids, skipped)
    prompt_id = f"ifeval-{key}"
    if not items:
        return prompt_id, None
    return prompt_id, {"prompt_id": prompt_id, "prompt": text, "task": text, "source": "ifeval", "items": items}


def read_ifeval_jsonl(
    path: str | os.PathLike, n_prompts: int = 0, unknown_ids: UnknownIds = "error"
) -> ImportedPrompts:
    """The prompts of an IFEval-format JSONL file (see the module docstring): the whole file checked,
    then the first n_prompts, in file order (0: all)."""
    check_arguments(n_prompts, unknown_ids)
    prompts, seen, skipped, dropped = [], {}, Counter(), 0
    for row, data in jsonl_rows(path):
        prompt_id, prompt = _ifeval_prompt(row, data, unknown_ids, skipped)
        if prompt_id in seen:
            raise row.error("key", f"duplicate key {data['key']!r} (also on {seen[prompt_id]})")
        seen[prompt_id] = row.where
        if prompt is None:
            dropped += 1
        else:
            prompts.append(prompt)
    return rule_graded(path, prompts, n_prompts, skipped, dropped)
