"""Two processes replacing the same part over and over while this one reads it, through the Store
(what stages read) and through SQL, in a folder and on an object store (a real S3 API on loopback):
every read sees one whole write, never a mix or a torn file, and the last write is what stays."""

from __future__ import annotations

import subprocess
import sys
import time

from rtt.data.catalog import query

WRITES = 40
WRITER = f"""
import sys
import time
from rtt.data.store import Store

store, writer = Store(sys.argv[1]), sys.argv[2]
for i in range({WRITES}):
    n = 3 + i % 4  # the row count tells the writes apart too
    rows = [{{"run_id": "r1", "prompt_id": f"p{{k}}", "split": "train", "source": "builtin", "task": "t",
             "prompt": f"{{writer}}-{{i}}", "messages": None}} for k in range(n)]
    store.write("prompts", rows, "r1", "prompts")
    time.sleep(0.02)  # a folder's writes take a millisecond: leave the readers time to overlap them
print("done", flush=True)
"""


def whole(rows: list[dict]) -> str:
    """The write a read saw; fails if the rows mix writes or miss rows."""
    versions = {r["prompt"] for r in rows}
    assert len(versions) == 1, versions
    (version,) = versions
    assert len(rows) == 3 + int(version.split("-")[1]) % 4, (version, len(rows))
    return version


def test_two_writers_of_one_part_and_readers_see_only_whole_writes(any_store):
    store, root = any_store, str(any_store.root)
    writers = [
        subprocess.Popen([sys.executable, "-c", WRITER, root, name], stdout=subprocess.PIPE, text=True)
        for name in ("a", "b")
    ]
    seen = set()
    while any(w.poll() is None for w in writers):
        if store.files("prompts"):
            seen.add(whole(store.rows("prompts", "r1")))
            seen.add(whole(query(store, "SELECT prompt FROM prompts WHERE run_id = 'r1'").to_pylist()))
        time.sleep(0.01)
    assert [w.wait() for w in writers] == [0, 0] and all(w.stdout.read() == "done\n" for w in writers)
    last = whole(store.rows("prompts", "r1"))
    assert last in {f"a-{WRITES - 1}", f"b-{WRITES - 1}"}
    assert len(seen) > 3, seen  # the reads did overlap the writes
    assert [p.name for p in store.files("prompts")] == ["prompts.parquet"]
