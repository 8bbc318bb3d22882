"""Damaged, foreign and leftover files in the lake: `Store.read` (what every stage reads through)
raises LakeError naming the file and what is wrong; `rtt sql` leaves the file out with a warning
naming it, and the other runs stay queryable. Temp files of writes are never read."""

import io
import os
import time
import warnings

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from flows.cli import main
from rtt.data.catalog import LakeWarning, query
from rtt.data.schemas import SCHEMA_VERSION, SCHEMAS
from rtt.data.store import STALE_TMP_SECONDS, LakeError, to_table
from rtt.testing.rows import prompt_rows


def rollout_rows(run_id, n):
    return [
        {
            "run_id": run_id,
            "rollout_id": f"{run_id}-{i}",
            "prompt_id": "p0",
            "round": 0,
            "step": i,
            "sample_index": i,
            "policy": "tiny",
            "prompt_token_ids": [1],
            "token_ids": [5, 6],
            "logprobs": [-0.5, -1.0],
            "text": "ab",
            "num_tokens": 2,
            "finished": True,
            "reward": None,
            "adv_response": None,
            "adv_tokens": None,
        }
        for i in range(n)
    ]


ROWS = {"prompts": prompt_rows, "rollouts": rollout_rows}


def fill(store):
    """Two good runs (r1: 2 rows, r2: 3 rows) of prompts and rollouts."""
    for table, rows in ROWS.items():
        store.write(table, rows("r1", 2), "r1", table)
        store.write(table, rows("r2", 3), "r2", table)
    return store


@pytest.fixture
def lake(store):
    return fill(store)


@pytest.fixture
def any_lake(any_store):
    """`lake`, in a folder and on an object store (a real S3 API on loopback)."""
    return fill(any_store)


def write_parquet(data, path):
    """pyarrow's writer, to a local file or an object (`path.write_bytes`)."""
    buffer = io.BytesIO()
    pq.write_table(data, buffer)
    path.write_bytes(buffer.getvalue())


def bad_part(store, table):
    path = store.table_dir(table) / "bad" / f"{table}.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def truncated(store, table):
    path = store.write(table, ROWS[table]("bad", 4), "bad", table)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    return path


def zero_bytes(store, table):
    path = bad_part(store, table)
    path.write_bytes(b"")
    return path


def with_metadata(data, table, version=SCHEMA_VERSION):
    return data.replace_schema_metadata({"rtt_schema_version": str(version), "rtt_table": table})


def wrong_type(store, table):
    """`step` (int32 in the schema) written as strings, with rtt's metadata, by pyarrow directly."""
    data = to_table("rollouts", rollout_rows("bad", 2))
    index = data.schema.get_field_index("step")
    data = data.set_column(index, "step", pa.array(["0", "1"]))
    path = bad_part(store, table)
    write_parquet(with_metadata(data, table), path)
    return path


def newer_version(store, table):
    path = bad_part(store, table)
    write_parquet(with_metadata(to_table(table, ROWS[table]("bad", 2)), table, SCHEMA_VERSION + 1), path)
    return path


def foreign(store, table):
    """Right columns and types, but not written by rtt's Store (no rtt_schema_version)."""
    path = bad_part(store, table)
    write_parquet(to_table(table, ROWS[table]("bad", 2)).replace_schema_metadata(None), path)
    return path


def other_table(store, table):
    path = bad_part(store, table)
    write_parquet(with_metadata(SCHEMAS["evals"].empty_table(), "evals"), path)
    return path


DAMAGES = [
    ("prompts", truncated, r"not a readable Parquet file \(\d+ bytes; truncated or damaged\)"),
    ("prompts", zero_bytes, r"empty file \(0 bytes\)"),
    ("rollouts", wrong_type, r"column of the wrong type: 'step' is string, expected int32"),
    ("prompts", newer_version, rf"written at schema version {SCHEMA_VERSION + 1}, .*upgrade rtt"),
    ("prompts", foreign, r"no rtt_schema_version in its metadata"),
    ("prompts", other_table, r"holds table 'evals', not 'prompts'"),
]


@pytest.mark.parametrize("table, damage, problem", DAMAGES, ids=[d[1].__name__ for d in DAMAGES])
def test_a_stage_read_names_the_file_and_the_problem(any_lake, table, damage, problem):
    path = damage(any_lake, table)
    with pytest.raises(LakeError, match=rf"^{table}: {path}: {problem}"):
        any_lake.read(table)
    with pytest.raises(LakeError, match=problem):
        any_lake.rows(table, "bad")
    assert len(any_lake.rows(table, "r1")) == 2  # a stage reading another run is not stopped


@pytest.mark.parametrize("table, damage, problem", DAMAGES, ids=[d[1].__name__ for d in DAMAGES])
def test_sql_leaves_the_file_out_with_a_warning_and_the_rest_stays_queryable(any_lake, table, damage, problem):
    path = damage(any_lake, table)
    with pytest.warns(LakeWarning, match=rf"{table}: left out {path}: {problem}"):
        counts = query(any_lake, f"SELECT run_id, count(*) AS n FROM {table} GROUP BY 1 ORDER BY 1").to_pylist()
    assert counts == [{"run_id": "r1", "n": 2}, {"run_id": "r2", "n": 3}]


def test_rtt_sql_warns_on_stderr_and_prints_the_rest(any_lake, capsys):
    truncated(any_lake, "prompts")
    zero_bytes(any_lake, "rollouts")
    # names both tables: on an object store only the tables a query names are fetched (and checked)
    sql = (
        "SELECT run_id, count(*) AS n FROM prompts WHERE run_id NOT IN (SELECT 'x' FROM rollouts) GROUP BY 1 ORDER BY 1"
    )
    assert main(["sql", sql, "--data-dir", str(any_lake.root), "--format", "csv"]) == 0
    captured = capsys.readouterr()
    assert captured.out.splitlines() == ["run_id,n", "r1,2", "r2,3"]
    warned = captured.err.splitlines()
    assert len(warned) == 2 and all(line.startswith("warning: ") for line in warned)
    assert "bad/prompts.parquet: not a readable Parquet file" in captured.err
    assert "bad/rollouts.parquet: empty file (0 bytes)" in captured.err


def test_a_damaged_page_behind_a_sound_footer_stops_the_read_and_the_query_naming_the_part(lake, capsys):
    path = lake.write(
        "prompts", [dict(row, prompt=os.urandom(40).hex()) for row in prompt_rows("bad", 40)], "bad", "prompts"
    )
    damaged = bytearray(path.read_bytes())
    damaged[100:1500] = bytes(b ^ 0xFF for b in damaged[100:1500])  # data pages; the footer at the end is intact
    path.write_bytes(bytes(damaged))
    pq.read_schema(path)  # the footer still reads, so only reading the data finds it
    with pytest.raises(LakeError, match=rf"prompts: {path}: damaged data"):
        lake.read("prompts")
    with pytest.raises(LakeError, match=rf"prompts: {path}: damaged data"):
        query(lake, "SELECT max(prompt) FROM prompts")
    assert main(["sql", "SELECT max(prompt) FROM prompts", "--data-dir", str(lake.root)]) == 2
    assert f"{path}: damaged data" in capsys.readouterr().err


def leftover_temps(store):
    """A crashed write's temp files next to r1's part: one junk, one a whole Parquet file of other rows."""
    folder = store.table_dir("prompts") / "r1"
    junk = folder / ".prompts.parquet.4242.tmp"
    junk.write_bytes(b"PAR1 half a file")
    whole = folder / ".prompts.parquet.4343.tmp"
    pq.write_table(with_metadata(to_table("prompts", prompt_rows("r1", 7)), "prompts"), whole)
    return junk, whole


def test_temp_files_are_never_read(lake):
    leftover_temps(lake)
    assert len(lake.rows("prompts", "r1")) == 2
    with warnings.catch_warnings():
        warnings.simplefilter("error", LakeWarning)  # not even a warning: temp files are not parts
        assert query(lake, "SELECT count(*) AS n FROM prompts WHERE run_id = 'r1'").to_pylist() == [{"n": 2}]


def test_the_next_write_of_a_part_removes_its_stale_temp_files_and_keeps_fresh_ones(lake):
    junk, whole = leftover_temps(lake)
    stale = time.time() - STALE_TMP_SECONDS - 60
    os.utime(junk, (stale, stale))  # a crash more than STALE_TMP_SECONDS ago; `whole` may be a live write
    lake.write("prompts", prompt_rows("r1", 2), "r1", "prompts")
    assert not junk.exists() and whole.exists()
