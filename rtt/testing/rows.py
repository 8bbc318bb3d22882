"""Valid rows of the lake's tables, for tests that write parts of their own."""

from __future__ import annotations


def prompt_rows(run_id: str, n: int, text: str = "q") -> list[dict]:
    """n `prompts` rows: p0..p{n-1}, their prompts `text` followed by the index."""
    return [
        {
            "run_id": run_id,
            "prompt_id": f"p{i}",
            "split": "train",
            "source": "builtin",
            "task": "t",
            "prompt": f"{text}{i}",
            "messages": None,
        }
        for i in range(n)
    ]
