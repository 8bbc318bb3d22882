"""The rows of a dataset file, each with its place for error messages (`line N`, `item N`, `row N`:
see `rtt.importers`), and checks of their fields. Every problem raises `DatasetError`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq


class DatasetError(ValueError):
    """A dataset file that cannot be imported; the message names the file, row and field."""

    def __init__(self, path: str | os.PathLike, where: str | None, field: str | None, problem: str):
        self.path, self.where, self.field, self.problem = str(path), where, field, problem
        super().__init__(": ".join(part for part in (self.path, where, field, problem) if part))


class Row:
    """Where a row is, to build its errors."""

    def __init__(self, path, where: str):
        self.path, self.where = path, where

    def error(self, field: str | None, problem: str) -> DatasetError:
        return DatasetError(self.path, self.where, field, problem)


Rows = Iterator[tuple[Row, dict]]


# --- values and fields -------------------------------------------------------------------------


def type_name(value: object) -> str:
    """The JSON-ish name of a value's type, for messages: null, str, list, dict..."""
    return "null" if value is None else type(value).__name__


def parse_json(row: Row, field: str | None, text: str) -> object:
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise row.error(field, f"invalid JSON: {err}") from None


def required(row: Row, data: dict, key: str) -> object:
    """data[key], or a 'missing' error when it is absent or null."""
    if data.get(key) is None:
        raise row.error(key, "missing")
    return data[key]


def present(row: Row, data: dict, keys: tuple[str, ...]) -> str:
    """The first of `keys` the row gives (not null), or a 'missing' error naming them."""
    for key in keys:
        if data.get(key) is not None:
            return key
    raise row.error(keys[0], "missing" + (f" (nor {', '.join(keys[1:])})" if len(keys) > 1 else ""))


def nonempty(row: Row, field: str, value: object) -> str:
    """A non-empty string (not only whitespace)."""
    if value is None:
        raise row.error(field, "missing")
    if not isinstance(value, str) or not value.strip():
        raise row.error(field, f"must be a non-empty string, got {value!r}"[:300])
    return value


# --- files -------------------------------------------------------------------------------------


def jsonl_rows(path) -> Rows:
    """(place, object) per non-blank line of a JSONL file."""
    try:
        handle = open(path, "rb")
    except OSError as err:
        raise DatasetError(path, None, None, f"cannot open: {err.strerror or err}") from None
    with handle:
        for number, raw in enumerate(handle, 1):
            row = Row(path, f"line {number}")
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as err:
                raise row.error(None, f"not UTF-8: {err}") from None
            if not line.strip():
                continue
            data = parse_json(row, None, line)
            if not isinstance(data, dict):
                raise row.error(None, f"must be a JSON object, got {type_name(data)}")
            yield row, data


def json_rows(path) -> Rows:
    """(place, object) per item of a JSON file holding a list of objects."""
    try:
        raw = Path(path).read_bytes()
    except OSError as err:
        raise DatasetError(path, None, None, f"cannot open: {err.strerror or err}") from None
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as err:
        raise DatasetError(path, None, None, f"not UTF-8: {err}") from None
    except json.JSONDecodeError as err:
        raise DatasetError(path, None, None, f"invalid JSON: {err}") from None
    if not isinstance(data, list):
        raise DatasetError(path, None, None, f"must be a JSON list of objects, got {type_name(data)}")
    for number, item in enumerate(data):
        row = Row(path, f"item {number}")
        if not isinstance(item, dict):
            raise row.error(None, f"must be a JSON object, got {type_name(item)}")
        yield row, item


def parquet_table(path) -> pa.Table:
    """The Parquet file as a table, or DatasetError naming the file."""
    try:
        return pq.read_table(path)
    except FileNotFoundError:
        raise DatasetError(path, None, None, "file not found") from None
    except (OSError, pa.ArrowException) as err:
        raise DatasetError(path, None, None, f"cannot read as Parquet: {err}") from None


def table_rows(path, table: pa.Table) -> Rows:
    """(place, object) per row of a Parquet file's table."""
    for number, data in enumerate(table.to_pylist()):
        yield Row(path, f"row {number}"), data


def parquet_rows(path) -> Rows:
    """(place, object) per row of a Parquet file."""
    yield from table_rows(path, parquet_table(path))


def file_rows(path) -> Rows:
    """(place, object) per row of a .jsonl, .json or .parquet file, by its extension."""
    suffix = Path(path).suffix.lower()
    readers = {".jsonl": jsonl_rows, ".json": json_rows, ".parquet": parquet_rows}
    if suffix not in readers:
        raise DatasetError(
            path, None, None, f"unknown file type {suffix or '(none)'!r}: expected .jsonl, .json or .parquet"
        )
    return readers[suffix](path)
