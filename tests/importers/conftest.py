"""Fixtures of the importer tests: dataset files written into tmp_path, the check that an import
fails with a DatasetError naming the file, the place and the field, and a run config that imports a file."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from rtt.config import Config, load_config
from rtt.importers import DatasetError


@pytest.fixture
def write_jsonl(tmp_path) -> Callable[..., Path]:
    """write_jsonl(rows, name="data.jsonl"): a JSONL file in tmp_path, one line per row (an object, or
    the line itself as a string)."""

    def write(rows: list, name: str = "data.jsonl") -> Path:
        path = tmp_path / name
        path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))
        return path

    return write


@pytest.fixture
def write_json(tmp_path) -> Callable[..., Path]:
    """write_json(rows, name="data.json"): a JSON file in tmp_path holding `rows`."""

    def write(rows: object, name: str = "data.json") -> Path:
        path = tmp_path / name
        path.write_text(json.dumps(rows))
        return path

    return write


@pytest.fixture
def write_parquet(tmp_path) -> Callable[..., Path]:
    """write_parquet(rows, name="data.parquet"): a Parquet file in tmp_path, one row per dict."""

    def write(rows: list[dict], name: str = "data.parquet") -> Path:
        path = tmp_path / name
        pq.write_table(pa.Table.from_pylist(rows), path)
        return path

    return write


def _raises_at(call, path, where, field) -> DatasetError:
    """The DatasetError `call` raises, checked to name the file, the place and the field."""
    with pytest.raises(DatasetError) as info:
        call()
    err = info.value
    assert (err.path, err.where, err.field) == (str(path), where, field), str(err)
    prefix = ": ".join(p for p in (str(path), where, field) if p) + ": "
    assert str(err).startswith(prefix), str(err)
    return err


@pytest.fixture
def raises_at() -> Callable[..., DatasetError]:
    """raises_at(call, path, where, field): the DatasetError `call` raises, checked to name the file,
    the place and the field."""
    return _raises_at


@pytest.fixture
def stage_config(tmp_path) -> Callable[..., Config]:
    """stage_config(source, path, *overrides): the smoke preset importing `path`, its lake in tmp_path."""

    def config(source: str, path: Path, *overrides: str) -> Config:
        return load_config(
            "smoke", [f"data_dir={tmp_path / 'data'}", f"rubrics.source={source}", f"rubrics.path={path}", *overrides]
        )

    return config
