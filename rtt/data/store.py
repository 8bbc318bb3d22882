"""The artifact lake: Parquet files under `<root>/tables/<table>/<run_id>/<part>.parquet`.

A stage writes whole parts (`rollouts/<run>/r0_s3.parquet`): a rerun of the same part replaces the
file, so rows are never duplicated. Writes are atomic (temp file, fsync, rename). Rows are
validated against the table's schema before anything touches the disk; a mismatch raises
SchemaError naming the table, the row and the column.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from rtt.data.schemas import SCHEMA_VERSION, SCHEMAS

PART_NAME = re.compile(r"^[A-Za-z0-9_.=-]+$")


class SchemaError(ValueError):
    """Rows that do not match a table's schema."""


def stable_id(*parts: object) -> str:
    """A deterministic id from its parts (run, round, step, prompt, sample index, ...)."""
    return hashlib.sha1("\x1f".join(map(str, parts)).encode()).hexdigest()[:16]


def to_table(table: str, rows: list[dict]) -> pa.Table:
    """Rows -> an Arrow table of `table`'s schema, or SchemaError naming the row and column."""
    if table not in SCHEMAS:
        raise SchemaError(f"unknown table {table!r}; tables: {sorted(SCHEMAS)}")
    schema = SCHEMAS[table]
    names = set(schema.names)
    for index, row in enumerate(rows):
        extra, missing = set(row) - names, names - set(row)
        if extra or missing:
            raise SchemaError(f"{table}: row {index}: unexpected columns {sorted(extra)}, missing columns {sorted(missing)}")
    columns = []
    for field in schema:
        values = [row[field.name] for row in rows]
        try:
            columns.append(pa.array(values, type=field.type))
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, OverflowError) as err:
            bad = next((i for i, v in enumerate(values) if not _fits(v, field.type)), "?")
            raise SchemaError(f"{table}: row {bad}: column {field.name!r} ({field.type}): {err}") from None
    return pa.Table.from_arrays(columns, schema=schema)


def _fits(value: object, type_: pa.DataType) -> bool:
    try:
        pa.array([value], type=type_)
        return True
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, OverflowError):
        return False


class Store:
    """Reads and writes the tables of one artifact lake."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)

    def table_dir(self, table: str) -> Path:
        return self.root / "tables" / table

    def run_dir(self, run_id: str) -> Path:
        """Checkpoints and resolved configs of one run."""
        return self.root / "runs" / run_id

    def write(self, table: str, rows: list[dict], run_id: str, part: str) -> Path:
        """Atomically replace part `part` of `table` for `run_id` with `rows`."""
        if not PART_NAME.match(part) or not PART_NAME.match(run_id):
            raise ValueError(f"{table}: run id {run_id!r} and part {part!r} must match {PART_NAME.pattern}")
        data = to_table(table, rows)
        data = data.replace_schema_metadata({"rtt_schema_version": str(SCHEMA_VERSION), "rtt_table": table})
        path = self.table_dir(table) / run_id / f"{part}.parquet"
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            pq.write_table(data, tmp)
            with open(tmp, "rb") as handle:
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
        return path

    def files(self, table: str, run_id: str | None = None) -> list[Path]:
        base = self.table_dir(table) / (run_id or "")
        return sorted(p for p in base.glob("**/*.parquet") if not p.name.startswith("."))

    def read(self, table: str, run_id: str | None = None, part: str | None = None) -> pa.Table:
        """All rows of `table` (optionally one run, one part); an empty table of the schema if none."""
        if table not in SCHEMAS:
            raise SchemaError(f"unknown table {table!r}; tables: {sorted(SCHEMAS)}")
        files = self.files(table, run_id)
        if part is not None:
            files = [f for f in files if f.stem == part]
        if not files:
            return SCHEMAS[table].empty_table()
        return pa.concat_tables([pq.read_table(f, schema=SCHEMAS[table]) for f in files])

    def rows(self, table: str, run_id: str | None = None, part: str | None = None) -> list[dict]:
        return self.read(table, run_id, part).to_pylist()
