"""Rubric items as the stages use them, read back from the `prompts` and `rubrics` tables."""

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

    @property
    def label(self) -> str:
        """A short kind label for per-kind metrics: the checker id, or `llm`."""
        return self.checker or "llm"


def load_prompts(store: Store, run_id: str, split: str | None = None) -> list[dict]:
    rows = store.rows("prompts", run_id)
    if split is not None:
        rows = [r for r in rows if r["split"] == split]
    return sorted(rows, key=lambda r: r["prompt_id"])


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
        rubrics.setdefault(row["prompt_id"], []).append(RubricItem(
            item_id=row["item_id"], prompt_id=row["prompt_id"], index=row["item_index"], text=row["text"],
            weight=row["weight"], kind=row["kind"], checker=row["checker"],
            kwargs=json.loads(row["checker_kwargs"] or "{}"),
        ))
    return rubrics
