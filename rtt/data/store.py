"""The artifact lake: Parquet files under `<root>/tables/<table>/<run_id>/<part>.parquet`.

The root is a local folder or any fsspec URL (`s3://bucket/prefix`, `gs://...`, `memory://...`),
read and written through universal-pathlib's `UPath`. On a URL root only the tables live there:
the run state that is not a table (checkpoints, resumable state, the run lock, the LLM answer
cache, reports) stays in a local folder, `state_root(root)`.

A stage writes whole parts (`rollouts/<run>/r0_s3.parquet`): a rerun of the same part replaces the
file, so rows are never duplicated. Writes are atomic. In a folder: temp file
`.<part>.parquet.<pid>.tmp`, fsync, rename. On an object store: one PUT of the whole part, which
readers see entirely or not at all (S3's PUT and multipart completion are atomic). A write that
fails (a full disk, a refused request) leaves the previous part as it was and no temp file, and
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
import io
import os
import re
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from upath import UPath

from rtt.data.schemas import SCHEMA_VERSION, SCHEMAS
from rtt.faults import crash_point

PART_NAME = re.compile(r"^[A-Za-z0-9_.=-]+$")
STALE_TMP_SECONDS = 3600  # a temp file this old belongs to no live write (a part takes seconds)
STATE_DIR_ENV = "RTT_STATE_DIR"
"""Where the local state folders of URL lakes go (default `~/.cache/rtt/state`)."""


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
            raise SchemaError(
                f"{table}: row {index}: unexpected columns {sorted(extra)}, missing columns {sorted(missing)}"
            )
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


def is_url(root: str | os.PathLike) -> bool:
    """A lake root on an fsspec filesystem other than the local one (`s3://bucket/prefix`)."""
    return "://" in str(root) and not str(root).startswith("file://")


def lake_root(root: str | os.PathLike) -> Path | UPath:
    """A local folder as a Path; an fsspec URL as a UPath."""
    return UPath(str(root)) if is_url(root) else Path(str(root).removeprefix("file://"))


def state_root(root: str | os.PathLike) -> Path:
    """The local folder of a lake's run state: the lake itself when it is a folder; for a URL,
    `$RTT_STATE_DIR/<url as a folder name>` (default `~/.cache/rtt/state/...`)."""
    if not is_url(root):
        return lake_root(root)
    base = Path(os.environ.get(STATE_DIR_ENV) or Path.home() / ".cache" / "rtt" / "state")
    return base / re.sub(r"[^A-Za-z0-9_.-]+", "_", str(root).rstrip("/"))


def part_source(path: Path | UPath) -> str | pa.Buffer:
    """What pyarrow reads a part from: a local file's path, or an object's bytes fetched through
    fsspec in this thread by one GET, a snapshot of one whole write. (`UPath.read_bytes` reads in
    ranges pinned to the first ETag, and fails with FileExpired when a writer replaces the part
    meanwhile. Handed the fsspec filesystem itself, pyarrow calls it from its own I/O threads,
    and the interpreter aborted at exit: "terminate called without an active exception".)"""
    return pa.py_buffer(path.fs.cat_file(path.path)) if isinstance(path, UPath) else str(path)


def _reader(source: str | pa.Buffer):
    return pa.BufferReader(source) if isinstance(source, pa.Buffer) else source


def part_problem(path: Path | UPath, table: str, source: str | pa.Buffer | None = None) -> str | None:
    """What is wrong with part file `path` of `table` (read from `source`, `part_source(path)` by
    default), from its footer alone; None if it reads."""
    source = part_source(path) if source is None else source
    size = source.size if isinstance(source, pa.Buffer) else path.stat().st_size
    if size == 0:
        return "empty file (0 bytes): an interrupted copy or a full disk?"
    try:
        schema = pq.read_schema(_reader(source))
    except (pa.ArrowInvalid, OSError) as err:
        return f"not a readable Parquet file ({size} bytes; truncated or damaged): {err}"
    meta = schema.metadata or {}
    version = meta.get(b"rtt_schema_version", b"").decode()
    if not version.isdigit():
        return "no rtt_schema_version in its metadata: not written by rtt's Store"
    if int(version) > SCHEMA_VERSION:
        return f"written at schema version {version}, newer than this rtt's {SCHEMA_VERSION}: upgrade rtt to read it"
    written_as = meta.get(b"rtt_table", table.encode()).decode()
    if written_as != table:
        return f"holds table {written_as!r}, not {table!r}"
    expected = SCHEMAS[table]
    wrong = [
        f"{f.name!r} is {f.type}, expected {expected.field(f.name).type}"
        for f in schema
        if f.name in expected.names and f.type != expected.field(f.name).type
    ]
    if wrong:
        return "column of the wrong type: " + "; ".join(wrong)
    return None


def _write_failure(table: str, run_id: str, part: str, path: Path | UPath, err: OSError) -> LakeWriteError:
    full = err.errno == errno.ENOSPC or "No space left" in str(err)
    reason = "the disk is full (no space left on device)" if full else str(err)
    return LakeWriteError(
        err.errno or errno.EIO,
        f"{table}: writing run {run_id!r} part {part!r} to {path} failed: {reason}; "
        "the previous part, if any, is unchanged",
    )


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


def part_or_problem(path: Path | UPath, table: str) -> pa.Table | str:
    """One part as `table`'s current schema (columns it predates are null), or what is wrong with it."""
    source = part_source(path)
    problem = part_problem(path, table, source)
    if problem is None:
        try:
            return pq.read_table(_reader(source), schema=SCHEMAS[table])
        except (pa.ArrowInvalid, OSError) as err:  # a damaged page behind a sound footer
            problem = f"damaged data: {err}"
    return problem


def read_part(path: Path | UPath, table: str) -> pa.Table:
    """One part as `table`'s current schema, or LakeError naming the file and the problem."""
    data = part_or_problem(path, table)
    if isinstance(data, str):
        raise LakeError(f"{table}: {path}: {data}")
    return data


class Store:
    """Reads and writes the tables of one artifact lake."""

    def __init__(self, root: str | os.PathLike):
        self.root = lake_root(root)
        self.remote = isinstance(self.root, UPath)
        self.state = state_root(root)

    def table_dir(self, table: str) -> Path | UPath:
        return self.root / "tables" / table

    def run_dir(self, run_id: str) -> Path:
        """Checkpoints and resolved configs of one run (local, also for a URL lake)."""
        return self.state / "runs" / run_id

    def write(self, table: str, rows: list[dict], run_id: str, part: str) -> Path:
        """Atomically replace part `part` of `table` for `run_id` with `rows`."""
        if not PART_NAME.match(part) or not PART_NAME.match(run_id):
            raise ValueError(f"{table}: run id {run_id!r} and part {part!r} must match {PART_NAME.pattern}")
        data = to_table(table, rows)
        data = data.replace_schema_metadata({"rtt_schema_version": str(SCHEMA_VERSION), "rtt_table": table})
        path = self.table_dir(table) / run_id / f"{part}.parquet"
        if self.remote:
            return self._put(data, table, run_id, part, path)
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

    def _put(self, data: pa.Table, table: str, run_id: str, part: str, path: UPath) -> UPath:
        """One object PUT of the whole part: the previous object stays until it succeeds."""
        blob = io.BytesIO()
        try:
            pq.write_table(data, blob)
            crash_point("store.write")
            path.fs.pipe_file(path.path, blob.getvalue())
        except OSError as err:
            raise _write_failure(table, run_id, part, path, err) from err
        return path

    def remove_temp_files(self, run_id: str) -> None:
        """Delete the temp files of `run_id`'s part writes that were never renamed (their process
        died). Only while no process writes this run: its lock held. An object store has none."""
        if not self.remote:
            for tmp in self.root.glob(f"tables/*/{run_id}/.*.tmp"):
                tmp.unlink(missing_ok=True)

    def files(self, table: str, run_id: str | None = None) -> list[Path | UPath]:
        """The part files of `table` (optionally one run); temp files of writes are never listed."""
        base = self.table_dir(table) / (run_id or "")
        if self.remote:
            base.fs.invalidate_cache()  # other processes write: list afresh, never from fsspec's cache
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
