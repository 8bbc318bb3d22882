"""Fault injection for crash-safety tests: kill this process at a chosen point, as a power cut would.

    RTT_CRASH_AT=store.write:3        SIGKILL at the 3rd Parquet write, after its temp file is
                                      written and synced, before the rename that publishes it
    RTT_CRASH_AT=checkpoint.save:1    SIGKILL in the 1st `atomic_dir` save, after the files are
                                      written into the temp folder, before the swap
    RTT_CRASH_AT=checkpoint.swap:2    SIGKILL in the 2nd `atomic_dir` save between its two renames
                                      (the old folder moved aside, the new one not yet in place)

Counts are per process. The variable is read once, at import; unset (always, outside the tests
of `tests/flows/test_kill_resume.py` and `bench/bench_kill_resume.py`), `crash_point` is one
comparison against None.
"""

from __future__ import annotations

import os
import signal

POINTS = ("store.write", "checkpoint.save", "checkpoint.swap")


def parse(spec: str | None) -> tuple[str, int] | None:
    """`"store.write:3"` -> ("store.write", 3); None or "" -> None."""
    if not spec:
        return None
    point, _, nth = spec.partition(":")
    if point not in POINTS or not nth.isdigit() or int(nth) < 1:
        raise ValueError(f"RTT_CRASH_AT={spec!r}: expected POINT:N with POINT in {POINTS} and N >= 1")
    return point, int(nth)


TARGET = parse(os.environ.get("RTT_CRASH_AT"))
reached: dict[str, int] = {}  # point -> times reached in this process (counted only when a target is set)


def crash_point(point: str) -> None:
    """SIGKILL this process if it is the n-th time `point` is reached and RTT_CRASH_AT names it."""
    if TARGET is None:
        return
    reached[point] = reached.get(point, 0) + 1
    if (point, reached[point]) == TARGET:
        os.kill(os.getpid(), signal.SIGKILL)
