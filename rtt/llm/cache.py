"""A persistent cache of LLM answers, keyed by the request's content (SQLite, one file).

The key is a SHA-256 of the canonical JSON of what decides the answer: the model, the messages and
the sampling settings; not the endpoint URL and never the API key. Only successful answers are
stored, so a re-run retries what failed. Safe to share between processes (SQLite's locking; each
write is one short transaction).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from pathlib import Path


def request_key(body: dict) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


class AnswerCache:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS answers (key TEXT PRIMARY KEY, model TEXT, answer TEXT, "
            "prompt_tokens INTEGER, completion_tokens INTEGER, created REAL)"
        )
        self.db.commit()

    def get(self, key: str) -> tuple[str, int, int] | None:
        """(answer, prompt tokens, completion tokens) of a stored request, or None."""
        row = self.db.execute(
            "SELECT answer, prompt_tokens, completion_tokens FROM answers WHERE key = ?", (key,)
        ).fetchone()
        return None if row is None else (row[0], row[1], row[2])

    def put(self, key: str, model: str, answer: str, prompt_tokens: int, completion_tokens: int) -> None:
        with self.db:
            self.db.execute(
                "INSERT OR REPLACE INTO answers VALUES (?, ?, ?, ?, ?, ?)",
                (key, model, answer, prompt_tokens, completion_tokens, time.time()),
            )

    def __len__(self) -> int:
        return self.db.execute("SELECT count(*) FROM answers").fetchone()[0]

    def close(self) -> None:
        self.db.close()


def answer_cache(enabled: bool, cache_dir: str | Path | None) -> AnswerCache | None:
    """The answer cache every stage shares, `<cache_dir>/llm.sqlite`; None when caching is off."""
    return AnswerCache(Path(cache_dir) / "llm.sqlite") if enabled and cache_dir else None
