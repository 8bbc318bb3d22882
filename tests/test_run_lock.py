"""The run lock's hand-off: a process given the holder's token runs under its lock, as a stage that
a pipeline sent to a work pool does; a wrong token, or a holder that is gone, is refused."""

from __future__ import annotations

import subprocess
import sys

import pytest

from rtt.run_lock import NotHeld, RunLocked, run_lock

HOLDER = """
import sys, time
from rtt.run_lock import run_lock
with run_lock(sys.argv[1], "r1") as token:
    print(token, flush=True)
    sys.stdin.readline()  # hold it until told
"""


@pytest.fixture
def holder(tmp_path):
    """(data dir, token, process) of another process holding run r1's lock."""
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(tmp_path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    token = proc.stdout.readline().strip()
    yield tmp_path, token, proc
    proc.kill()
    proc.wait()


def test_the_holders_token_lets_another_process_run_under_its_lock(holder):
    data, token, proc = holder
    with pytest.raises(RunLocked, match=f"run r1 is already running: held by pid {proc.pid}"):
        with run_lock(data, "r1"):
            pass
    with run_lock(data, "r1", token=token) as handed:
        assert handed == token


def test_a_wrong_token_is_refused_naming_the_holder(holder):
    data, _, proc = holder
    with pytest.raises(NotHeld, match=rf"no longer holds the run .*held by pid {proc.pid}"):
        with run_lock(data, "r1", token="0" * 32):
            pass


def test_a_token_whose_holder_is_gone_is_refused_and_the_run_is_free_again(holder):
    data, token, proc = holder
    proc.communicate("\n", timeout=30)  # the holder lets go and exits
    with pytest.raises(NotHeld, match="not held"):
        with run_lock(data, "r1", token=token):
            pass
    with run_lock(data, "r1") as mine, run_lock(data, "r1") as again:  # reentrant: the same token
        assert mine == again and mine != token
        with run_lock(data, "r1", token=mine):  # handed within the holding process too
            pass
