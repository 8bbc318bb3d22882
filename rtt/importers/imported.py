"""What every reader returns: the file's prompts (the first n_prompts of them), what was left out,
and what the rubrics stage reports of the import."""

from __future__ import annotations

import os
from collections import Counter
from typing import Literal

UnknownIds = Literal["error", "skip"]
Graded = Literal["rule", "llm"]


def check_arguments(n_prompts: int, unknown_ids: str) -> None:
    """ValueError unless n_prompts is an integer >= 0 and unknown_ids is 'error' or 'skip'."""
    if isinstance(n_prompts, bool) or not isinstance(n_prompts, int) or n_prompts < 0:
        raise ValueError(f"n_prompts must be an integer >= 0 (0 = all), got {n_prompts!r}")
    if unknown_ids not in ("error", "skip"):
        raise ValueError(f"unknown_ids must be 'error' or 'skip', got {unknown_ids!r}")


class ImportedPrompts(list):
    """The first n_prompts prompts of a file, in file order (a list of dicts; n_prompts 0: all of
    them), with what was left out of them."""

    def __init__(
        self,
        path: str | os.PathLike,
        graded: Graded,
        prompts: list[dict],
        n_prompts: int = 0,
        skipped_ids: Counter | None = None,
        skipped_prompts: int = 0,
        system_dropped: int = 0,
    ):
        super().__init__(prompts[:n_prompts] if n_prompts else prompts)
        self.path = str(path)
        self.graded = graded
        """Who grades the format's items: rule checkers, or the LLM judge (plain prompts: once written)."""
        self.prompts_in_file = len(prompts)
        """The file's prompts (after skipping), before n_prompts."""
        self.skipped_ids: dict[str, int] = dict(sorted((skipped_ids or Counter()).items()))
        """Unknown instruction id -> items dropped (unknown_ids="skip")."""
        self.skipped_prompts = skipped_prompts
        """Prompts dropped because all their items were."""
        self.system_dropped = system_dropped
        """Prompts whose system message was dropped (verl)."""

    @property
    def skipped_items(self) -> int:
        return sum(self.skipped_ids.values())

    def report(self) -> dict:
        """What the rubrics stage's summary says of the import: the dataset, and what was skipped
        (rule-graded formats) or the items and pitfalls taken (LLM-graded ones)."""
        if self.graded == "llm":
            items = [i for p in self for i in p["items"]]
            return {"dataset": self.path, "items": len(items), "pitfalls": sum(i["pitfall"] for i in items)}
        return {
            "dataset": self.path,
            "prompts_in_file": self.prompts_in_file,
            "skipped_items": self.skipped_items,
            "skipped_prompts": self.skipped_prompts,
            "skipped_ids": self.skipped_ids,
            "system_messages_dropped": self.system_dropped,
        }
