"""Rubric items and prompts as the stages read them back from the `prompts` and `rubrics` tables."""

from __future__ import annotations

import json
from dataclasses import dataclass

from rtt.data.store import Store


@dataclass(frozen=True)
class RubricItem:
    item_id: str
    prompt_id: str
    index: int
    text: str
    weight: float
    kind: str  # rule | llm
    checker: str | None
    kwargs: dict
    pitfall: bool = False
    """The criterion names a fault: a judge finding it met gives verdict -1 (violated)."""

    @property
    def label(self) -> str:
        """A short kind label for per-kind metrics: the checker id, or `llm`."""
        return self.checker or "llm"


def conversation(prompt: dict) -> list[dict]:
    """The chat messages of a `prompts` row: its stored conversation, or its one user message."""
    return json.loads(prompt["messages"]) if prompt.get("messages") else [{"role": "user", "content": prompt["prompt"]}]


def conversation_text(prompt: dict) -> str:
    """The request as a judge reads it: the user message, or the whole conversation turn by turn."""
    messages = conversation(prompt)
    if len(messages) == 1:
        return messages[0]["content"]
    return "\n\n".join(f"[{m['role']}]\n{m['content']}" for m in messages)


def load_prompts(store: Store, run_id: str, split: str | None = None) -> list[dict]:
    rows = store.rows("prompts", run_id)
    if split is not None:
        rows = [r for r in rows if r["split"] == split]
    return sorted(rows, key=lambda r: r["prompt_id"])


def constraint_items(prompts: list[dict]) -> dict[str, list[RubricItem]]:
    """prompt_id -> one rule-checked item per constraint of built-in generator prompts
    (rtt.generator), for benchmarks that skip the rubrics stage."""
    return {
        p["prompt_id"]: [
            RubricItem(
                f"{p['prompt_id']}-{k}", p["prompt_id"], k, c["text"], 1.0, "rule", c["instruction_id"], c["kwargs"]
            )
            for k, c in enumerate(p["constraints"])
        ]
        for p in prompts
    }


def load_rubrics(store: Store, run_id: str) -> dict[str, list[RubricItem]]:
    """prompt_id -> its items (latest rubric version), in item order."""
    rows = store.rows("rubrics", run_id)
    latest: dict[str, int] = {}
    for row in rows:
        latest[row["prompt_id"]] = max(latest.get(row["prompt_id"], 0), row["version"])
    rubrics: dict[str, list[RubricItem]] = {}
    for row in sorted(rows, key=lambda r: (r["prompt_id"], r["item_index"])):
        if row["version"] != latest[row["prompt_id"]]:
            continue
        rubrics.setdefault(row["prompt_id"], []).append(
            RubricItem(
                item_id=row["item_id"],
                prompt_id=row["prompt_id"],
                index=row["item_index"],
                text=row["text"],
                weight=row["weight"],
                kind=row["kind"],
                checker=row["checker"],
                kwargs=json.loads(row["checker_kwargs"] or "{}"),
                pitfall=bool(row["pitfall"]),
            )
        )
    return rubrics
