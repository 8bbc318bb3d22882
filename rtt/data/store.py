"""The artifact lake: Parquet files under `<root>/tables/<table>/<run_id>/<part>.parquet`.

A stage writes whole parts (`rollouts/<run>/r0_s3.parquet`): a rerun of the same part replaces the
file, so rows are never duplicated. Writes are atomic (temp file `.<part>.parquet.<pid>.tmp`, fsync,
rename): a write that fails (a full disk) leaves the previous part as it was and no temp file, and
raises LakeWriteError naming the table, run, part and path. Rows are validated against the table's
schema before anything touches the disk; a mismatch raises SchemaError naming the table, the row
and the column.

Reading checks each part's footer first (`part_problem`): an empty, truncated or foreign file, a
column of the wrong type, or a part written by a newer rtt raises LakeError naming the file and
what is wrong; a stage never trains on part of its data. A part from an older schema version
reads with the columns it lacks as nulls. Temp files are never read; one left by a crashed write
is removed by the next write of the same part once it is STALE_TMP_SECONDS old.
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from rtt.data.schemas import SCHEMA_VERSION, SCHEMAS
from rtt.faults import crash_point

PART_NAME = re.compile(r"^[A-Za-z0-9_.=-]+$")
STALE_TMP_SECONDS = 3600  # a temp file this old belongs to no live write (a part takes seconds)


class SchemaError(ValueError):
    """Rows that do not match a table's schema."""


class LakeError(SchemaError):
    """A part file that cannot be read as its table: empty, damaged, foreign, or from a newer rtt."""


class LakeWriteError(OSError):
    """A part write that failed (e.g. a full disk); the previous part, if any, is unchanged."""


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


def part_problem(path: Path, table: str) -> str | None:
    """What is wrong with part file `path` of `table`, from its footer alone; None if it reads."""
    size = path.stat().st_size
    if size == 0:
        return "empty file (0 bytes): an interrupted copy or a full disk?"
    try:
        schema = pq.read_schema(path)
    except (pa.ArrowInvalid, OSError) as err:
        return f"not a readable Parquet file ({size} bytes; truncated or damaged): {err}"
    meta = schema.metadata or {}
    version = meta.get(b"rtt_schema_version", b"").decode()
    if not version.isdigit():
        return "no rtt_schema_version in its metadata: not written by rtt's Store"
    if int(version) > SCHEMA_VERSION:
        return (f"written at schema version {version}, newer than this rtt's {SCHEMA_VERSION}: "
                "upgrade rtt to read it")
    written_as = meta.get(b"rtt_table", table.encode()).decode()
    if written_as != table:
        return f"holds table {written_as!r}, not {table!r}"
    expected = SCHEMAS[table]
    wrong = [f"{f.name!r} is {f.type}, expected {expected.field(f.name).type}"
             for f in schema if f.name in expected.names and f.type != expected.field(f.name).type]
    if wrong:
        return "column of the wrong type: " + "; ".join(wrong)
    return None


def _write_failure(table: str, run_id: str, part: str, path: Path, err: OSError) -> LakeWriteError:
    full = err.errno == errno.ENOSPC or "No space left" in str(err)
    reason = "the disk is full (no space left on device)" if full else str(err)
    return LakeWriteError(err.errno or errno.EIO,
                          f"{table}: writing run {run_id!r} part {part!r} to {path} failed: {reason}; "
                          "the previous part, if any, is unchanged")


def _remove_stale_temps(path: Path) -> None:
    """Delete temp files of `path` left by writes that crashed more than STALE_TMP_SECONDS ago."""
    for tmp in path.parent.glob(f".{path.name}.*.tmp"):
        try:
            if time.time() - tmp.stat().st_mtime > STALE_TMP_SECONDS:
                tmp.unlink(missing_ok=True)
        except FileNotFoundError:  # another writer finished with it just now
            pass


def fsync_dir(folder: Path) -> None:
    """Flush a folder's entries (a rename into it) to disk."""
    handle = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


def read_part(path: Path, table: str) -> pa.Table:
    """One part as `table`'s current schema (columns it predates are null), or LakeError."""
    problem = part_problem(path, table)
    if problem is None:
        try:
            return pq.read_table(path, schema=SCHEMAS[table])
        except (pa.ArrowInvalid, OSError) as err:  # a damaged page behind a sound footer
            problem = f"damaged data: {err}"
    raise LakeError(f"{table}: {path}: {problem}")


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
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            _remove_stale_temps(path)
            pq.write_table(data, tmp)
            with open(tmp, "rb") as handle:
                os.fsync(handle.fileno())
            crash_point("store.write")
            os.replace(tmp, path)
            fsync_dir(path.parent)  # the rename itself survives a power cut
        except OSError as err:
            raise _write_failure(table, run_id, part, path, err) from err
        finally:
            tmp.unlink(missing_ok=True)
        return path

    def remove_temp_files(self, run_id: str) -> None:
        """Delete the temp files of `run_id`'s part writes that were never renamed (their process
        died). Only while no process writes this run: its lock held."""
        for tmp in self.root.glob(f"tables/*/{run_id}/.*.tmp"):
            tmp.unlink(missing_ok=True)

    def files(self, table: str, run_id: str | None = None) -> list[Path]:
        """The part files of `table` (optionally one run); temp files of writes are never listed."""
        base = self.table_dir(table) / (run_id or "")
        return sorted(p for p in base.glob("**/*.parquet") if not p.name.startswith("."))

    def read(self, table: str, run_id: str | None = None, part: str | None = None) -> pa.Table:
        """All rows of `table` (optionally one run, one part); an empty table of the schema if none.
        Any damaged part raises LakeError naming it: no stage reads part of its data."""
        if table not in SCHEMAS:
            raise SchemaError(f"unknown table {table!r}; tables: {sorted(SCHEMAS)}")
        files = self.files(table, run_id)
        if part is not None:
            files = [f for f in files if f.stem == part]
        if not files:
            return SCHEMAS[table].empty_table()
        return pa.concat_tables([read_part(f, table) for f in files])

    def rows(self, table: str, run_id: str | None = None, part: str | None = None) -> list[dict]:
        return self.read(table, run_id, part).to_pylist()
