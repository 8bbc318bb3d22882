"""DuckDB over the artifact lake: one view per table, across all runs, in a sandbox that reads only them.

`SELECT ... FROM rollouts JOIN verdicts USING (rollout_id)` works on every run ever written. A table
with no files yet is an empty view of its schema, so queries never fail for lack of data.

A lake on an object store (`s3://...`) is read through its fsspec filesystem: the view of each
table a query names is the Arrow table of its parts, fetched before the query runs, so DuckDB needs
neither its httpfs extension nor credentials of its own, and the sandbox holds as for a folder.

The sandbox is DuckDB's own, and holds without the statement filter: rtt opens each table's parts
as an Arrow dataset (read-only, with the current schema, so a part from an older schema version
shows the columns it lacks as nulls), registers it as the table's view, then turns
`enable_external_access` off with no allowed paths and locks the configuration. DuckDB itself
opens no file after that: no COPY, EXPORT, ATTACH of a file, INSTALL, read_csv / read_text /
read_parquet / glob of any path, and no SET, RESET or PRAGMA that would undo it. (DuckDB's
`allowed_directories` / `allowed_paths` were not used: they allow writes as well as reads, so a
`COPY ... TO` into the lake would succeed.) The statement filter in front only gives the clearer
message. A damaged part is left out of its view with a LakeWarning naming the file and the problem,
so the rest of the lake stays queryable; damage the footer check cannot see (a bad page inside a
part) stops the query with a LakeError naming the part (on an object store, where parts are read
whole up front, it is left out with a LakeWarning too).
"""

from __future__ import annotations

import re
import warnings

import duckdb
import pyarrow as pa
import pyarrow.dataset as ds

from rtt.data.schemas import SCHEMAS
from rtt.data.store import LakeError, Store, part_or_problem, part_problem, read_part

READ_ONLY_STATEMENTS = {"SELECT", "EXPLAIN", "PRAGMA"}  # DESCRIBE, SUMMARIZE, SHOW parse as SELECT
STREAM_FAILED = re.compile(r"reading the stream registered as '(\w+)' failed")
EXPLAIN_PREFIX = re.compile(r"^\s*EXPLAIN\s+(ANALY[SZ]E\s+)?(\([^)]*\)\s*)?", re.IGNORECASE)
SANDBOX = [
    "SET autoinstall_known_extensions = false",
    "SET autoload_known_extensions = false",
    "SET enable_external_access = false",
    "SET lock_configuration = true",  # last: refuses every later SET / RESET / PRAGMA that changes a setting
]


class ReadOnlyError(ValueError):
    """A statement that would change data or settings, or open a file."""


class LakeWarning(UserWarning):
    """A damaged part file left out of its table's view."""


def connect(store: Store, sql: str | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection with one view per table, sandboxed (see the module doc). On an
    object store only the tables that `sql` names (every table without `sql`) are fetched; the
    other views are empty."""
    con = duckdb.connect(":memory:")
    for table, schema in SCHEMAS.items():
        if store.remote:
            named = sql is None or re.search(rf"\b{table}\b", sql, re.IGNORECASE)
            con.register(table, fetched_parts(store, table) if named else schema.empty_table())
        else:
            con.register(
                table, ds.dataset([str(p) for p in readable_parts(store, table)], schema=schema, format="parquet")
            )
    for setting in SANDBOX:
        con.execute(setting)
    return con


def readable_parts(store: Store, table: str) -> list:
    """The part files of `table` whose footer and schema check out; a LakeWarning for each other."""
    good = []
    for path in store.files(table):
        problem = part_problem(path, table)
        if problem:
            warnings.warn(f"{table}: left out {path}: {problem}", LakeWarning, stacklevel=3)
        else:
            good.append(path)
    return good


def fetched_parts(store: Store, table: str) -> pa.Table:
    """The rows of every part of `table` on an object store, fetched now, in this thread (see
    `store.part_source`); a part that does not read, footer or page, is left out with a LakeWarning."""
    tables = [SCHEMAS[table].empty_table()]
    for path in store.files(table):
        data = part_or_problem(path, table)
        if isinstance(data, str):
            warnings.warn(f"{table}: left out {path}: {data}", LakeWarning, stacklevel=3)
        else:
            tables.append(data)
    return pa.concat_tables(tables)


def check_read_only(con: duckdb.DuckDBPyConnection, sql: str, inside: str = "") -> None:
    """The friendly first layer: refuse any statement other than a query, naming its kind."""
    for statement in con.extract_statements(sql):
        kind = statement.type.name
        if kind not in READ_ONLY_STATEMENTS:
            raise ReadOnlyError(
                f"refused: `rtt sql` is read-only and this is a {kind} statement{inside}. "
                "Tables are written only by the pipeline's stages; query them with SELECT."
            )
        if kind == "EXPLAIN":
            check_read_only(con, EXPLAIN_PREFIX.sub("", statement.query, count=1), " (inside EXPLAIN)")


def quoted(values: list[str]) -> str:
    """SQL string literals, comma-separated: `'a', 'it''s'`."""
    return ", ".join("'" + value.replace("'", "''") + "'" for value in values)


def query(store: Store, sql: str) -> pa.Table:
    """Run read-only SQL over all tables; returns an Arrow table (no columns for a statement without rows)."""
    con = connect(store, sql)
    check_read_only(con, sql)
    try:
        result = con.sql(sql)
        return result.to_arrow_table() if result is not None else pa.table({})
    except (duckdb.PermissionException, duckdb.InvalidInputException) as err:
        if isinstance(err, duckdb.InvalidInputException) and "configuration has been locked" not in str(err):
            raise_damaged_part(store, err)
            raise
        raise ReadOnlyError(
            f"refused by the sandbox: `rtt sql` reads only the views of the lake's tables "
            f"({', '.join(SCHEMAS)}), opens no file by name and changes no setting. DuckDB: {err}"
        ) from None


def raise_damaged_part(store: Store, err: duckdb.Error) -> None:
    """A view's scan failed behind a sound footer (a damaged page): raise LakeError naming the part."""
    failed = STREAM_FAILED.search(str(err))
    if failed is None or failed.group(1) not in SCHEMAS:
        return
    table = failed.group(1)
    for path in store.files(table):
        if part_problem(path, table) is None:
            read_part(path, table)  # raises LakeError naming the damaged one
    raise LakeError(f"{table}: a part failed to read while querying, but each reads on its own now: {err}")
