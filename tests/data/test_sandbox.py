"""`rtt sql` runs in DuckDB's sandbox: every attempt below is refused with a clear message, and the
test checks the effect did not happen (no file written or changed anywhere under tmp_path, no
secret read). Each attempt runs twice: through `query` (statement filter, then sandbox) and on the
bare sandboxed connection from `connect` (no filter), so the sandbox is shown to hold on its own."""

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from flows.cli import main
from rtt.data.catalog import ReadOnlyError, connect, query
from rtt.testing.rows import prompt_rows

SECRET = "TOP-SECRET-OUTSIDE-THE-LAKE"


@pytest.fixture
def lake(store, tmp_path, monkeypatch):
    """A lake with one part, files outside it to try to read, and the cwd in tmp_path (relative
    paths in the SQL land there, where the snapshot sees them)."""
    store.write("prompts", prompt_rows("r1", 3), "r1", "prompts")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text(SECRET + "\n")
    (outside / "secret.csv").write_text(f"a\n{SECRET}\n")
    (outside / "secret.json").write_text(f'{{"a": "{SECRET}"}}\n')
    pq.write_table(pa.table({"a": [SECRET]}), outside / "secret.parquet")
    monkeypatch.chdir(tmp_path)
    return store


def snapshot(root):
    """Every file and folder under root with its bytes: any write shows up as a difference."""
    return {p: (p.read_bytes() if p.is_file() else None) for p in sorted(root.rglob("*"))}


def attempts(tmp_path, store):
    out, tables = tmp_path / "outside", store.root / "tables"
    part = tables / "prompts" / "r1" / "prompts.parquet"
    return [
        f"EXPLAIN ANALYZE COPY (SELECT 42) TO '{out}/x.csv'",
        "EXPLAIN ANALYZE COPY (SELECT 42) TO 'x.csv'",
        f"COPY (SELECT 42) TO '{out}/x.csv'",
        f"COPY (SELECT 42 AS a) TO '{tables}/prompts/r1/evil.parquet'",
        f"EXPLAIN ANALYZE COPY (SELECT * FROM prompts LIMIT 0) TO '{part}' (FORMAT parquet, USE_TMP_FILE false)",
        f"SELECT * FROM read_text('{out}/secret.txt')",
        f"SELECT * FROM read_text('{tables}/../../outside/secret.txt')",
        f"SELECT * FROM read_csv('{out}/secret.csv')",
        f"SELECT * FROM read_parquet('{out}/secret.parquet')",
        f"SELECT * FROM '{out}/secret.parquet'",
        f"SELECT * FROM read_json('{out}/secret.json')",
        f"SELECT * FROM glob('{out}/*')",
        f"SELECT * FROM sniff_csv('{out}/secret.csv')",
        "SELECT * FROM read_text('/etc/hostname')",
        f"ATTACH '{out}/new.duckdb'",
        f"ATTACH '{out}/new.sqlite' (TYPE sqlite)",
        "INSTALL httpfs",
        "LOAD httpfs",
        "SET enable_external_access = true",
        "RESET enable_external_access",
        "SET lock_configuration = false",
        f"SET allowed_directories = ['{tmp_path}']",
        f"PRAGMA profiling_output = '{out}/profile.txt'",
        "PRAGMA enable_profiling",
        f"SELECT 1; COPY (SELECT 42) TO '{out}/x.csv'",
        f"EXPORT DATABASE '{out}/export'",
        f"CREATE PERSISTENT SECRET s (TYPE s3, KEY_ID 'k', SECRET '{SECRET}')",
    ]


IN_MEMORY_ONLY = [
    "CREATE TABLE t AS SELECT 1 AS a",
    "INSERT INTO prompts VALUES ('x','x','x','x','x','x','x')",
    "DROP VIEW prompts",
    "ATTACH ':memory:' AS scratch",
    "DELETE FROM prompts",
]


def test_every_attempt_is_refused_by_query_and_changes_no_file(lake, tmp_path):
    before = snapshot(tmp_path)
    for sql in attempts(tmp_path, lake) + IN_MEMORY_ONLY:
        with pytest.raises(ReadOnlyError, match=r"^refused") as refused:
            query(lake, sql)
        assert SECRET not in str(refused.value), sql
    assert snapshot(tmp_path) == before
    assert [r["prompt_id"] for r in lake.rows("prompts")] == ["p0", "p1", "p2"]


def test_the_sandbox_alone_refuses_every_file_and_setting_attempt(lake, tmp_path):
    """No statement filter here: the bare connection from `connect` refuses on its own."""
    before = snapshot(tmp_path)
    for sql in attempts(tmp_path, lake):
        con = connect(lake)
        with pytest.raises(
            duckdb.Error, match="disabled (by|through) configuration|configuration has been locked"
        ) as err:
            relation = con.sql(sql)
            if relation is not None:
                relation.fetchall()
        assert SECRET not in str(err.value), sql
        assert con.execute("SELECT current_setting('enable_external_access')").fetchone() == (False,)
    assert snapshot(tmp_path) == before


def test_in_memory_statements_past_the_filter_leave_the_lake_and_next_connection_as_they_were(lake, tmp_path):
    before = snapshot(tmp_path)
    for sql in IN_MEMORY_ONLY:
        try:
            connect(lake).execute(sql)
        except duckdb.Error:  # e.g. INSERT into an Arrow view: refused, which is fine too
            pass
    assert snapshot(tmp_path) == before
    assert query(lake, "SELECT count(*) AS n FROM prompts").to_pylist() == [{"n": 3}]
    with pytest.raises(duckdb.CatalogException):
        connect(lake).sql("SELECT * FROM t")


def test_a_file_inside_the_lake_is_read_through_its_view_not_by_name(lake):
    part = lake.table_dir("prompts") / "r1" / "prompts.parquet"
    with pytest.raises(ReadOnlyError, match="opens no file by name"):
        query(lake, f"SELECT * FROM read_parquet('{part}')")


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT prompt_id FROM prompts ORDER BY 1",
        "SELECT count(*) AS n FROM prompts p JOIN rubrics r USING (prompt_id) JOIN rollouts o USING (prompt_id)",
        "WITH x AS (SELECT * FROM prompts) SELECT count(*) AS n FROM x",
        "EXPLAIN SELECT * FROM prompts",
        "EXPLAIN ANALYZE SELECT * FROM prompts",
        "DESCRIBE rollouts",
        "SUMMARIZE prompts",
        "SHOW TABLES",
        "PRAGMA table_info('prompts')",
        "SELECT current_setting('threads') AS threads",
        # the README's examples
        "SELECT run_id, round, step, reward_mean, item_pass_rate, adv_token_abs FROM train_steps ORDER BY 1, 2, 3",
        "SELECT v.verdict, r.text AS item, o.text AS response "
        "FROM verdicts v JOIN rubrics r USING (item_id) JOIN rollouts o USING (rollout_id) LIMIT 5",
        "SELECT round, metric, value FROM evals WHERE metric LIKE '%accuracy' ORDER BY round",
    ],
)
def test_queries_still_run(lake, sql):
    assert isinstance(query(lake, sql), pa.Table)


def test_cli_refuses_with_exit_2_and_writes_nothing(lake, tmp_path, capsys):
    before = snapshot(tmp_path)
    data = ["--data-dir", str(lake.root)]
    assert main(["sql", "EXPLAIN ANALYZE COPY (SELECT 42) TO 'x.csv'", *data]) == 2
    assert "refused" in capsys.readouterr().err
    assert main(["sql", f"SELECT * FROM read_text('{tmp_path}/outside/secret.txt')", *data]) == 2
    captured = capsys.readouterr()
    assert "refused by the sandbox" in captured.err and SECRET not in captured.out + captured.err
    assert main(["sql", "SET enable_external_access = true", *data]) == 2
    assert "read-only" in capsys.readouterr().err
    assert snapshot(tmp_path) == before
