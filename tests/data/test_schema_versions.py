"""Schema evolution: the committed fixture lake (written by tests/data/fixtures/make_lake.py at
schema version 2) stays readable, through `Store.read` and `catalog.query`, after a simulated
version bump that adds a column; a part from a newer rtt than this one is refused, saying to upgrade."""

import importlib.util
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import rtt.data.store
from rtt.data.catalog import LakeWarning, query
from rtt.data.schemas import SCHEMA_VERSION, SCHEMAS
from rtt.data.store import LakeError, Store

FIXTURES = Path(__file__).parent / "fixtures"
FIXTURE_VERSION = 2
spec = importlib.util.spec_from_file_location("make_lake", FIXTURES / "make_lake.py")
make_lake = importlib.util.module_from_spec(spec)
spec.loader.exec_module(make_lake)


@pytest.fixture
def old_lake(tmp_path):
    """A copy of the committed lake (tests never change the committed files)."""
    shutil.copytree(FIXTURES / f"lake_v{FIXTURE_VERSION}", tmp_path / "data")
    return Store(tmp_path / "data")


@pytest.fixture
def bumped(monkeypatch):
    """This rtt one version on: `prompts` gains a nullable `difficulty` column."""
    schema = SCHEMAS["prompts"].append(pa.field("difficulty", pa.float32()))
    monkeypatch.setitem(SCHEMAS, "prompts", schema)
    monkeypatch.setattr(rtt.data.store, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    return schema


def test_the_fixture_lake_is_what_its_script_writes_and_is_small():
    files = sorted((FIXTURES / f"lake_v{FIXTURE_VERSION}").rglob("*.parquet"))
    assert [f.parent.parent.name for f in files] == sorted(make_lake.TABLES)
    assert sum(f.stat().st_size for f in files) < 40_000
    assert {pq.read_schema(f).metadata[b"rtt_schema_version"] for f in files} == {str(FIXTURE_VERSION).encode()}


def test_the_fixture_lake_reads_with_todays_code(old_lake):
    for table in make_lake.TABLES:
        written = pq.read_schema(old_lake.files(table)[0])  # the schema of FIXTURE_VERSION
        expected = [
            {name: row.get(name) for name in SCHEMAS[table].names}  # columns added since: null
            for row in make_lake.fixture_rows(table, written)
        ]
        assert old_lake.rows(table) == expected, table
    assert query(old_lake, "SELECT count(*) AS n FROM rollouts").to_pylist() == [{"n": make_lake.ROWS}]


def test_after_a_version_bump_the_old_lake_reads_with_the_new_column_null(old_lake, bumped):
    rows = old_lake.rows("prompts")
    assert len(rows) == make_lake.ROWS and all(row["difficulty"] is None for row in rows)
    assert old_lake.read("prompts").schema.field("difficulty").type == pa.float32()
    new = [dict(row, run_id="new", difficulty=0.5) for row in make_lake.fixture_rows("prompts", bumped)]
    path = old_lake.write("prompts", new, "new", "prompts")
    assert pq.read_schema(path).metadata[b"rtt_schema_version"] == str(SCHEMA_VERSION + 1).encode()
    both = query(
        old_lake,
        "SELECT run_id, count(*) AS n, count(difficulty) AS rated, max(difficulty) AS top "
        "FROM prompts GROUP BY 1 ORDER BY 1",
    ).to_pylist()
    assert both == [
        {"run_id": "fixture", "n": 3, "rated": 0, "top": None},
        {"run_id": "new", "n": 3, "rated": 3, "top": 0.5},
    ]
    assert len(old_lake.rows("rubrics")) == make_lake.ROWS  # tables the bump did not touch read as before


def test_a_part_from_a_newer_rtt_says_to_upgrade(old_lake, monkeypatch):
    monkeypatch.setattr(rtt.data.store, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    old_lake.write("prompts", make_lake.fixture_rows("prompts", SCHEMAS["prompts"]), "future", "prompts")
    monkeypatch.undo()
    with pytest.raises(
        LakeError,
        match=rf"future/prompts.parquet: written at schema version {SCHEMA_VERSION + 1}, "
        rf"newer than this rtt's {SCHEMA_VERSION}: upgrade rtt",
    ):
        old_lake.read("prompts")
    with pytest.warns(LakeWarning, match="upgrade rtt"):
        assert query(old_lake, "SELECT DISTINCT run_id FROM prompts").to_pylist() == [{"run_id": "fixture"}]
