"""Plain prompts, without rubric items, from a file of conversations (`rtt.importers.conversations`).

Plain prompts ("prompts"): rows with `prompt` (a string or a message list) or `messages`, and an
optional `id` (our prompt_id = "prompts-<id>", else a hash of the conversation). They carry no
rubric: the LLM writer writes one (`rubrics.write`, `rtt.rubrics.writer`).

    {"id": "q17", "prompt": "Plan a three-day trip to Kyoto for a family with small children."}
"""

from __future__ import annotations

import os

from rtt.importers.conversations import conversation, hashed_id, prompt_dict, read_conversations
from rtt.importers.imported import ImportedPrompts, UnknownIds
from rtt.importers.rows import Row, nonempty, present


def _plain_prompt(row: Row, data: dict) -> tuple[dict, str]:
    key = present(row, data, ("prompt", "messages"))
    messages = conversation(row, key, data[key])
    if data.get("id") is not None:
        return prompt_dict("prompts", "prompts", f"prompts-{nonempty(row, 'id', data['id'])}", messages, []), "id"
    return prompt_dict("prompts", "prompts", hashed_id("prompts", messages), messages, []), key


def read_prompts(path: str | os.PathLike, n_prompts: int = 0, unknown_ids: UnknownIds = "error") -> ImportedPrompts:
    """Prompts without rubrics (`prompt`: a string or messages, or `messages`; optional `id`):
    their rubrics are written by the LLM writer (`rubrics.write`)."""
    return read_conversations(path, n_prompts, unknown_ids, _plain_prompt)
