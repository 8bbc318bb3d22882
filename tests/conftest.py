"""Shared fixtures: a tiny model built in-process, a temporary artifact lake and MLflow store."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> str:
    from rtt.models import build_tiny_model

    return str(build_tiny_model(tmp_path_factory.mktemp("models") / "tiny"))


@pytest.fixture(scope="session")
def tiny_tokenizer(tiny_model_dir):
    from rtt.models import load_tokenizer

    return load_tokenizer(tiny_model_dir)


@pytest.fixture
def store(tmp_path):
    from rtt.data.store import Store

    return Store(tmp_path / "data")
