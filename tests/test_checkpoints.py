"""`atomic_dir` (every checkpoint save): a save that fails midway, e.g. on a full disk, leaves the
previous checkpoint as it was and no temp folder; a save that succeeds leaves only the new one."""

import errno

import pytest

from rtt.checkpoints import atomic_dir


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
