"""`atomic_dir` (every checkpoint save): a save that fails midway, e.g. on a full disk, leaves the
previous checkpoint as it was and no temp folder; a save that succeeds leaves only the new one; a
process killed inside a save leaves what `recover_atomic_dirs` finishes or discards."""

import errno
import os
import signal
import subprocess
import sys

import pytest

from rtt.checkpoints import atomic_dir, recover_atomic_dirs

SAVE = """import sys
from pathlib import Path
from rtt.checkpoints import atomic_dir
with atomic_dir(Path(sys.argv[1])) as tmp:
    (tmp / "model.safetensors").write_bytes(b"new weights")
"""


@pytest.fixture
def old_checkpoint(tmp_path):
    out = tmp_path / "policy" / "round_0"
    out.mkdir(parents=True)
    (out / "model.safetensors").write_bytes(b"old weights")
    return out


def test_a_save_that_fails_keeps_the_old_checkpoint_and_leaves_no_temp_folder(old_checkpoint):
    with pytest.raises(OSError, match="No space left"):
        with atomic_dir(old_checkpoint) as tmp:
            (tmp / "model.safetensors").write_bytes(b"half of the new")
            raise OSError(errno.ENOSPC, "No space left on device")
    assert (old_checkpoint / "model.safetensors").read_bytes() == b"old weights"
    assert [p.name for p in old_checkpoint.parent.iterdir()] == ["round_0"]


def test_a_save_that_succeeds_replaces_the_old_checkpoint_and_leaves_nothing_else(old_checkpoint):
    with atomic_dir(old_checkpoint) as tmp:
        (tmp / "model.safetensors").write_bytes(b"new weights")
    assert (old_checkpoint / "model.safetensors").read_bytes() == b"new weights"
    assert [p.name for p in old_checkpoint.parent.iterdir()] == ["round_0"]


@pytest.mark.parametrize("rename", [1, 2])  # the old folder moved aside; the new one moved in
def test_ctrl_c_during_the_swap_keeps_the_old_checkpoint_and_leaves_nothing_else(old_checkpoint, monkeypatch, rename):
    """Ctrl-C lands in the main thread wherever it is: here, in the swap's `rename`-th os.replace."""
    calls, replace = [], os.replace

    def interrupted(src, dst):
        calls.append(src)
        if len(calls) == rename:
            raise KeyboardInterrupt
        replace(src, dst)

    monkeypatch.setattr("rtt.checkpoints.os.replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        with atomic_dir(old_checkpoint) as tmp:
            (tmp / "model.safetensors").write_bytes(b"new weights")
    assert (old_checkpoint / "model.safetensors").read_bytes() == b"old weights"
    assert [p.name for p in old_checkpoint.parent.iterdir()] == ["round_0"]


@pytest.mark.parametrize(
    "crash_at, weights",
    [
        ("checkpoint.save:1", b"old weights"),  # killed with the new folder filled, not swapped in: discarded
        ("checkpoint.swap:1", b"new weights"),  # killed between the two renames (old moved aside): finished
    ],
)
def test_a_save_killed_midway_is_recovered(old_checkpoint, crash_at, weights):
    killed = subprocess.run(
        [sys.executable, "-c", SAVE, str(old_checkpoint)], env={**os.environ, "RTT_CRASH_AT": crash_at}
    )
    assert killed.returncode == -signal.SIGKILL
    assert len(list(old_checkpoint.parent.iterdir())) == 2  # what the dead process left: a .tmp, or a .tmp and an .old
    recover_atomic_dirs(old_checkpoint.parent)
    assert (old_checkpoint / "model.safetensors").read_bytes() == weights
    assert [p.name for p in old_checkpoint.parent.iterdir()] == ["round_0"]
