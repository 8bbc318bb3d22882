"""A full disk during a part write: the previous part keeps its bytes, no temp file is left, and the
error (LakeWriteError, an OSError with errno ENOSPC) names the table, the run, the part and the path
and says the disk is full. Simulated at the write and at the fsync, then for real on a small tmpfs
(skipped, with the reason, where mounting is refused)."""

import errno
import os
import shutil
import subprocess

import pyarrow.parquet as pq
import pytest

from rtt.data.store import LakeWriteError, Store
from rtt.testing.rows import prompt_rows


def big_rows(run_id, n):
    """Incompressible text: n rows of about 4 KB each on disk."""
    return [dict(row, prompt=os.urandom(2000).hex()) for row in prompt_rows(run_id, n)]


def write_half_then_fill_the_disk(real_write):
    def write_table(table, where, **kwargs):
        real_write(table, where, **kwargs)
        with open(where, "r+b") as handle:  # the file as a full disk leaves it: cut off midway
            handle.truncate(os.path.getsize(where) // 2)
        raise OSError(errno.ENOSPC, "Error writing bytes to file. Detail: [errno 28] No space left on device")

    return write_table


def assert_disk_full(err, path, run_id="r1"):
    message = str(err.value)
    assert isinstance(err.value, OSError) and err.value.errno == errno.ENOSPC
    assert message.startswith("[Errno 28] prompts: ")
    assert f"run {run_id!r} part 'prompts'" in message and str(path) in message
    assert "the disk is full (no space left on device)" in message


def test_a_write_that_fills_the_disk_midway_keeps_the_previous_part(store, monkeypatch):
    path = store.write("prompts", prompt_rows("r1", 2), "r1", "prompts")
    before = path.read_bytes()
    monkeypatch.setattr("rtt.data.store.pq.write_table", write_half_then_fill_the_disk(pq.write_table))
    with pytest.raises(LakeWriteError) as err:
        store.write("prompts", prompt_rows("r1", 50, "new"), "r1", "prompts")
    assert_disk_full(err, path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in path.parent.iterdir()) == ["prompts.parquet"]  # no temp file left


def test_a_full_disk_reported_at_fsync_keeps_the_previous_part(store, monkeypatch):
    path = store.write("prompts", prompt_rows("r1", 2), "r1", "prompts")
    before = path.read_bytes()

    def fsync(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr("rtt.data.store.os.fsync", fsync)
    with pytest.raises(LakeWriteError) as err:
        store.write("prompts", prompt_rows("r1", 5, "new"), "r1", "prompts")
    monkeypatch.undo()
    assert_disk_full(err, path)
    assert path.read_bytes() == before and sorted(p.name for p in path.parent.iterdir()) == ["prompts.parquet"]


def test_a_first_write_that_fills_the_disk_leaves_no_file(store, monkeypatch):
    monkeypatch.setattr("rtt.data.store.pq.write_table", write_half_then_fill_the_disk(pq.write_table))
    with pytest.raises(LakeWriteError) as err:
        store.write("prompts", prompt_rows("r7", 3), "r7", "prompts")
    assert_disk_full(err, store.table_dir("prompts") / "r7" / "prompts.parquet", run_id="r7")
    assert list((store.table_dir("prompts") / "r7").iterdir()) == []
    assert store.rows("prompts") == []


@pytest.fixture
def small_disk(tmp_path):
    """A 256 KiB tmpfs at tmp_path/small, unmounted afterwards."""
    mount = tmp_path / "small"
    mount.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a tmpfs needs root and the mount command")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount)], capture_output=True, text=True
    )
    if done.returncode != 0:
        pytest.skip(f"mount -t tmpfs refused here: {done.stderr.strip()}")
    yield mount
    subprocess.run(["umount", str(mount)], check=True)


def test_a_real_full_disk_keeps_the_previous_part(small_disk):
    store = Store(small_disk / "data")
    path = store.write("prompts", prompt_rows("r1", 2), "r1", "prompts")
    before = path.read_bytes()
    with pytest.raises(LakeWriteError) as err:
        store.write("prompts", big_rows("r1", 100), "r1", "prompts")  # about 400 KB on a 256 KiB disk
    assert_disk_full(err, path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in path.parent.iterdir()) == ["prompts.parquet"]
    assert len(store.rows("prompts")) == 2
    store.write("prompts", prompt_rows("r1", 3), "r1", "prompts")  # the space the failed write took is free again
    assert len(store.rows("prompts")) == 3
