"""One process at a time per run: an OS lock on `<state>/runs/<run_id>/run.lock`, where `<state>`
is the lake's folder, or for a lake on an object store its local state folder
(`rtt.data.store.state_root`): there the lock keeps out a second process on the same host only.

`flock` locks die with their holder (a SIGKILLed process holds nothing), so a crashed run never
blocks its own resume. The holder writes who it is (pid, host, since when, command) into the
file, and a process that finds the run taken raises RunLocked with that. The lock is reentrant
within a process: the pipeline holds it and each stage it runs takes it again.

A pipeline that sends its stages to other processes (work pools) hands each one the lock's token,
a secret the holder wrote into the file: a process given the token runs under the holder's lock
without taking it, as long as the holder still holds it (else NotHeld).
"""

from __future__ import annotations

import datetime
import fcntl
import json
import os
import secrets
import socket
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rtt.data.store import state_root

# Locks this process holds: path -> (open file, depth, token). flock belongs to an open file, so a
# second open of the same file in this process would block against the first; reentry goes through here.
_held: dict[Path, tuple[int, int, str]] = {}
_guard = threading.Lock()


class RunLocked(RuntimeError):
    """Another live process is running this run."""


class NotHeld(RuntimeError):
    """A process handed the lock's token, but the lock is no longer held with that token."""


def lock_path(data_dir: str | os.PathLike, run_id: str) -> Path:
    return state_root(data_dir).resolve() / "runs" / run_id / "run.lock"


def _info(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def holder(path: Path) -> str:
    """Who holds the lock, as the holder wrote it."""
    info = _info(path)
    if not {"pid", "host", "since", "command"} <= set(info):
        return "a process that has not yet said who it is"
    return f"pid {info['pid']} on {info['host']}, since {info['since']} ({info['command']})"


def _is_locked(path: Path) -> bool:
    """Whether some process holds `path`'s flock (probed by taking and dropping it)."""
    try:
        fd = os.open(path, os.O_RDWR)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return False
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # drops the probe's lock, if it got it


def check_handed(path: Path, run_id: str, token: str) -> None:
    """Raise NotHeld unless the lock is held, by this process or another, under `token`."""
    with _guard:
        mine = _held.get(path)
    held = mine is not None or _is_locked(path)
    if not (held and secrets.compare_digest(_info(path).get("token", ""), token)):
        raise NotHeld(
            f"run {run_id}: this stage was sent by a pipeline that no longer holds the run "
            f"(lock {path}: {'held by ' + holder(path) if held else 'not held'}); rerun the pipeline to continue"
        )


def _acquire(path: Path, run_id: str, wait_s: float = 0.0) -> tuple[int, str]:
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
    token = secrets.token_hex(16)
    me = {"pid": os.getpid(), "host": socket.gethostname(), "since": since, "command": " ".join(sys.argv)}
    os.ftruncate(fd, 0)
    os.pwrite(fd, json.dumps({**me, "token": token}).encode(), 0)
    return fd, token


@contextmanager
def run_lock(data_dir: str | os.PathLike, run_id: str, wait_s: float = 0.0, token: str | None = None) -> Iterator[str]:
    """Hold run `run_id`'s lock for the block, or raise RunLocked naming its holder: at once, or
    after waiting up to `wait_s` seconds for it to be released. Yields the lock's token. Given a
    `token`, run under the holder's lock instead (see the module doc)."""
    path = lock_path(data_dir, run_id)
    if token is not None:
        check_handed(path, run_id, token)
        yield token
        return
    with _guard:
        held = _held.get(path)
        if held:
            token = held[2]
            _held[path] = (held[0], held[1] + 1, token)
    if not held:  # acquired outside the guard: a wait must not hold up this process's other locks
        fd, token = _acquire(path, run_id, wait_s)
        with _guard:
            _held[path] = (fd, 1, token)
    try:
        yield token
    finally:
        with _guard:
            fd, depth, token = _held.pop(path)
            if depth > 1:
                _held[path] = (fd, depth - 1, token)
            else:
                os.ftruncate(fd, 0)
                os.close(fd)  # releases the flock
