"""Servers and processes on loopback for tests and benchmarks: a free port, waiting for something
to come up, a command running in its own process group for the length of a block."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

BIN = Path(sys.executable).parent
"""The environment's scripts (`rtt`, `prefect`)."""
REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def answers(url: str) -> bool:
    """Whether `url` answers with a success status (within 2 s)."""
    try:
        urllib.request.urlopen(url, timeout=2).close()
        return True
    except OSError:  # URLError and HTTPError included
        return False


def wait_for(check: Callable, timeout: float, what: str, proc: subprocess.Popen | None = None):
    """`check()`'s first truthy value, polled every half second; AssertionError after `timeout` s or
    when `proc` exits first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"{what}: the process exited with {proc.returncode}")
        value = check()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


@contextmanager
def background(command: list[str], env: dict, log: Path, cwd: Path = REPO) -> Iterator[subprocess.Popen]:
    """A process in its own group, its output to `log`; SIGTERM (then SIGKILL) to the group on exit."""
    with open(log, "w") as out:
        proc = subprocess.Popen(command, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            yield proc
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
