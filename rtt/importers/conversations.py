"""Prompt files whose rows hold a chat conversation: the LLM-graded rubric formats
(`rtt.importers.rubric_sets`: RaR, RubricHub, HealthBench) and plain prompts (`rtt.importers.plain`).

One dict per prompt in file order:

    {"prompt_id", "prompt", "messages", "task", "source", "items"}

`messages` is the conversation up to and including the last user turn ({role, content}, roles
system | user | assistant; a plain-string prompt becomes one user message); `prompt` is that last
user message's content. `source` is the format name, and so is `task` unless the row names a theme.

Files, by extension: `.jsonl` (one object per line, blank lines ignored), `.json` (a list of
objects) and `.parquet` (read with pyarrow). The whole file is validated before anything is
returned, also when `n_prompts` keeps only the first n. A file with no rows and a repeated prompt
id (the same conversation twice, for RaR and RubricHub) are errors.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable

from rtt.data.store import stable_id
from rtt.importers.imported import ImportedPrompts, UnknownIds, check_arguments
from rtt.importers.rows import DatasetError, Row, file_rows, nonempty, type_name

ROLES = ("system", "user", "assistant")

Parse = Callable[[Row, dict], tuple[dict, str]]
"""A format's row parser: (row, object) -> (prompt dict, the field that names the prompt)."""


def _message(row: Row, field: str, message: object) -> dict:
    if not isinstance(message, dict):
        raise row.error(field, f"must be a message {{role, content}}, got {type_name(message)}")
    role, content = message.get("role"), message.get("content")
    if role not in ROLES:
        raise row.error(f"{field}.role", f"must be one of {list(ROLES)}, got {role!r}"[:300])
    if not isinstance(content, str):
        raise row.error(f"{field}.content", f"must be a string, got {type_name(content)}")
    return {"role": role, "content": content}


def conversation(row: Row, field: str, value: object) -> list[dict]:
    """The messages of a prompt: a string (one user turn) or a list ending with a user turn."""
    if isinstance(value, str):
        return [{"role": "user", "content": nonempty(row, field, value)}]
    if not isinstance(value, list) or not value:
        raise row.error(field, f"must be a non-empty string or a non-empty list of chat messages, got {value!r}"[:300])
    messages = [_message(row, f"{field}[{i}]", m) for i, m in enumerate(value)]
    last = f"{field}[{len(messages) - 1}]"
    if messages[-1]["role"] != "user":
        raise row.error(f"{last}.role", f"the conversation must end with a user turn, got {messages[-1]['role']!r}")
    nonempty(row, f"{last}.content", messages[-1]["content"])
    return messages


def prompt_dict(source: str, task: str, prompt_id: str, messages: list[dict], items: list[dict]) -> dict:
    """The prompt dict of a conversation."""
    return {
        "prompt_id": prompt_id,
        "prompt": messages[-1]["content"],
        "messages": messages,
        "task": task,
        "source": source,
        "items": items,
    }


def hashed_id(source: str, messages: list[dict]) -> str:
    """A prompt id for rows that give none: `<source>-` and a hash of the conversation."""
    return f"{source}-" + stable_id(source, json.dumps(messages, sort_keys=True, ensure_ascii=False))


def read_conversations(
    path: str | os.PathLike, n_prompts: int, unknown_ids: UnknownIds, parse: Parse
) -> ImportedPrompts:
    """Every row parsed and checked (ids unique, at least one row), then the first n_prompts."""
    check_arguments(n_prompts, unknown_ids)
    prompts, seen = [], {}
    for row, data in file_rows(path):
        parsed, id_field = parse(row, data)
        prompt_id = parsed["prompt_id"]
        if prompt_id in seen:
            raise row.error(id_field, f"duplicate prompt {prompt_id} (same as {seen[prompt_id]})")
        seen[prompt_id] = row.where
        prompts.append(parsed)
    if not prompts:
        raise DatasetError(path, None, None, "no rows")
    return ImportedPrompts(path, "llm", prompts, n_prompts)
