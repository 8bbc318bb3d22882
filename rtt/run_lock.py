"""One process at a time per run: an OS lock on `<data_dir>/runs/<run_id>/run.lock`.

`flock` locks die with their holder (a SIGKILLed process holds nothing), so a crashed run never
blocks its own resume. The holder writes who it is (pid, host, since when, command) into the
file, and a process that finds the run taken raises RunLocked with that. The lock is reentrant
within a process: the pipeline holds it and each stage it runs takes it again.
"""

from __future__ import annotations

import datetime
import fcntl
import json
import os
import socket
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# Locks this process holds: path -> (open file, depth). flock belongs to an open file, so a second
# open of the same file in this process would block against the first; reentry goes through here.
_held: dict[Path, tuple[int, int]] = {}
_guard = threading.Lock()


class RunLocked(RuntimeError):
    """Another live process is running this run."""


def lock_path(data_dir: str | os.PathLike, run_id: str) -> Path:
    return Path(data_dir).resolve() / "runs" / run_id / "run.lock"


def holder(path: Path) -> str:
    """Who holds the lock, as the holder wrote it."""
    try:
        info = json.loads(path.read_text())
        return f"pid {info['pid']} on {info['host']}, since {info['since']} ({info['command']})"
    except (OSError, ValueError, KeyError):
        return "a process that has not yet said who it is"


def _acquire(path: Path, run_id: str, wait_s: float = 0.0) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    deadline = time.monotonic() + wait_s
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if time.monotonic() < deadline:
                time.sleep(min(1.0, max(deadline - time.monotonic(), 0.0)))
                continue
            os.close(fd)
            waited = f" (waited {wait_s:g} s)" if wait_s else ""
            raise RunLocked(
                f"run {run_id} is already running{waited}: held by {holder(path)}; "
                f"wait for it to end, or stop that process (lock: {path})"
            ) from None
    since = datetime.datetime.now().astimezone().isoformat(timespec="seconds")
    me = {"pid": os.getpid(), "host": socket.gethostname(), "since": since, "command": " ".join(sys.argv)}
    os.ftruncate(fd, 0)
    os.pwrite(fd, json.dumps(me).encode(), 0)
    return fd


@contextmanager
def run_lock(data_dir: str | os.PathLike, run_id: str, wait_s: float = 0.0) -> Iterator[Path]:
    """Hold run `run_id`'s lock for the block, or raise RunLocked naming its holder: at once, or
    after waiting up to `wait_s` seconds for it to be released."""
    path = lock_path(data_dir, run_id)
    with _guard:
        held = _held.get(path)
        if held:
            _held[path] = (held[0], held[1] + 1)
    if not held:  # acquired outside the guard: a wait must not hold up this process's other locks
        fd = _acquire(path, run_id, wait_s)
        with _guard:
            _held[path] = (fd, 1)
    try:
        yield path
    finally:
        with _guard:
            fd, depth = _held.pop(path)
            if depth > 1:
                _held[path] = (fd, depth - 1)
            else:
                os.ftruncate(fd, 0)
                os.close(fd)  # releases the flock
