"""The lake's reads, writes and SQL, on a local folder and on an object store (a real S3 API on
loopback) alike: every test taking `store` runs on both."""

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from rtt.data.catalog import ReadOnlyError, query
from rtt.data.schemas import SCHEMAS
from rtt.data.store import LakeWriteError, SchemaError, Store, stable_id
from rtt.testing.rows import prompt_rows


@pytest.fixture
def store(any_store):
    return any_store


def test_round_trip_with_list_columns(store):
    row = {
        "run_id": "r1",
        "rollout_id": "a",
        "prompt_id": "p0",
        "round": 0,
        "step": -1,
        "sample_index": 0,
        "policy": "tiny",
        "prompt_token_ids": [1, 2],
        "token_ids": [5, 6, 7],
        "logprobs": [-0.5, -1.0, -0.1],
        "text": "abc",
        "num_tokens": 3,
        "finished": True,
        "reward": None,
        "adv_response": None,
        "adv_tokens": None,
    }
    path = store.write("rollouts", [row], "r1", "round0")
    back = store.rows("rollouts", "r1")
    assert back[0]["token_ids"] == [5, 6, 7] and back[0]["logprobs"] == pytest.approx([-0.5, -1.0, -0.1])
    assert pq.read_schema(pa.BufferReader(path.read_bytes())).metadata[b"rtt_table"] == b"rollouts"


def test_rerun_replaces_the_part_instead_of_duplicating(store):
    store.write("prompts", prompt_rows("r1", 3), "r1", "prompts")
    store.write("prompts", prompt_rows("r1", 3, "again"), "r1", "prompts")
    rows = store.rows("prompts")
    assert len(rows) == 3 and all(r["prompt"].startswith("again") for r in rows)


def test_schema_mismatch_names_table_row_and_column_and_writes_nothing(store):
    rows = prompt_rows("r1", 3)
    rows[2]["split"] = 17
    with pytest.raises(SchemaError, match=r"prompts: row 2: column 'split'"):
        store.write("prompts", rows, "r1", "prompts")
    rows = prompt_rows("r1", 2)
    del rows[1]["task"]
    with pytest.raises(SchemaError, match=r"prompts: row 1: .*missing columns \['task'\]"):
        store.write("prompts", rows, "r1", "prompts")
    assert store.files("prompts") == []


def test_failed_write_keeps_the_previous_file_whole(store, monkeypatch):
    store.write("prompts", prompt_rows("r1", 2), "r1", "prompts")

    def crash(table, where, **kwargs):  # into the temp file, or the buffer an object's PUT would send
        if hasattr(where, "write"):
            where.write(b"PAR1 half a file")
        else:
            with open(where, "wb") as handle:
                handle.write(b"PAR1 half a file")
        raise OSError("disk full in the middle of a write")

    monkeypatch.setattr("rtt.data.store.pq.write_table", crash)
    with pytest.raises(OSError, match="disk full"):
        store.write("prompts", prompt_rows("r1", 5), "r1", "prompts")
    monkeypatch.undo()
    assert len(store.rows("prompts")) == 2
    assert [p.name for p in (store.table_dir("prompts") / "r1").iterdir()] == ["prompts.parquet"]


def test_stable_ids_are_deterministic_and_distinct():
    assert stable_id("run", 0, 1, "p", 2) == stable_id("run", 0, 1, "p", 2)
    assert stable_id("run", 0, 1, "p", 2) != stable_id("run", 0, 1, "p", 3)
    assert stable_id("a", "bc") != stable_id("ab", "c")


def test_catalog_views_span_runs_and_join(store):
    store.write("prompts", prompt_rows("r1", 2), "r1", "prompts")
    store.write("prompts", prompt_rows("r2", 3), "r2", "prompts")
    counts = query(store, "SELECT run_id, count(*) AS n FROM prompts GROUP BY run_id ORDER BY run_id").to_pylist()
    assert counts == [{"run_id": "r1", "n": 2}, {"run_id": "r2", "n": 3}]
    joined = query(store, "SELECT count(*) AS n FROM prompts p JOIN rubrics r USING (prompt_id)").to_pylist()
    assert joined == [{"n": 0}]


def test_every_table_is_queryable_when_empty(store):
    for table in SCHEMAS:
        assert query(store, f"SELECT count(*) AS n FROM {table}").to_pylist() == [{"n": 0}]


@pytest.mark.parametrize(
    "sql",
    [
        "INSERT INTO prompts VALUES ('x','x','x','x','x','x')",
        "CREATE TABLE t AS SELECT 1",
        "DROP VIEW prompts",
        "COPY (SELECT 1) TO '/tmp/rtt-should-not-exist.csv'",
        "SELECT 1; DELETE FROM prompts",
        "ATTACH 'x.db'",
    ],
)
def test_write_statements_are_refused(store, sql):
    with pytest.raises(ReadOnlyError, match="read-only"):
        query(store, sql)


def test_a_put_the_object_store_refuses_names_the_part_and_writes_nothing(s3):
    store = Store("s3://no-such-bucket/lake")
    with pytest.raises(LakeWriteError, match=r"prompts: writing run 'r1' part 'prompts' to s3://no-such-bucket/"):
        store.write("prompts", prompt_rows("r1", 2), "r1", "prompts")


def test_a_url_lake_keeps_its_run_state_in_a_local_folder(monkeypatch, tmp_path):
    monkeypatch.setenv("RTT_STATE_DIR", str(tmp_path / "state"))
    store = Store("s3://bucket/some/prefix/")
    assert store.remote and str(store.table_dir("rollouts")) == "s3://bucket/some/prefix/tables/rollouts"
    assert store.run_dir("r1") == tmp_path / "state" / "s3_bucket_some_prefix" / "runs" / "r1"
    folder = Store(tmp_path / "lake")
    assert not folder.remote and folder.state == folder.root == tmp_path / "lake"
