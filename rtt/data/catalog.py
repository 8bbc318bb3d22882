"""DuckDB over the artifact lake: one view per table, across all runs, read-only queries.

`SELECT ... FROM rollouts JOIN verdicts USING (rollout_id)` works on every run ever written. A table
with no files yet is an empty view of its schema, so queries never fail for lack of data.
"""

from __future__ import annotations

import duckdb

from rtt.data.schemas import SCHEMAS
from rtt.data.store import Store

READ_ONLY_STATEMENTS = {"SELECT", "EXPLAIN", "PRAGMA"}


class ReadOnlyError(ValueError):
    """A statement that would change data or files."""


def connect(store: Store) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection with one view per table."""
    con = duckdb.connect(":memory:")
    for table, schema in SCHEMAS.items():
        files = store.files(table)
        if files:
            paths = ", ".join(f"'{p.as_posix()}'" for p in files)
            con.execute(f"CREATE VIEW {table} AS SELECT * FROM read_parquet([{paths}], union_by_name = true)")
        else:
            con.register(f"_{table}_empty", schema.empty_table())
            con.execute(f"CREATE VIEW {table} AS SELECT * FROM _{table}_empty")
    return con


def check_read_only(con: duckdb.DuckDBPyConnection, sql: str) -> None:
    for statement in con.extract_statements(sql):
        kind = statement.type.name
        if kind not in READ_ONLY_STATEMENTS:
            raise ReadOnlyError(
                f"refused: `rtt sql` is read-only and this is a {kind} statement. "
                "Tables are written only by the pipeline's stages; query them with SELECT."
            )


def query(store: Store, sql: str):
    """Run read-only SQL over all tables; returns an Arrow table."""
    con = connect(store)
    check_read_only(con, sql)
    return con.sql(sql).to_arrow_table()
