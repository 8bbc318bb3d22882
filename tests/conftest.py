"""Shared fixtures: tiny models built in-process, a temporary artifact lake and MLflow store."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")


# `make test` runs the suite in 2 processes (pytest-xdist, `--dist loadgroup`); each test file goes
# whole to one of them, so its module fixtures are built once. These files share session fixtures
# (an uninterrupted pipeline run, a Prefect server) and go together.
SHARED = {"test_kill_resume.py": "processes", "test_concurrency.py": "processes", "test_deployments.py": "processes"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        item.add_marker(pytest.mark.xdist_group(SHARED.get(item.path.name, str(item.path))))


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> str:
    from rtt.models import build_tiny_model

    return str(build_tiny_model(tmp_path_factory.mktemp("models") / "tiny"))


@pytest.fixture(scope="session")
def untied_model_dir(tiny_model_dir, tmp_path_factory) -> str:
    """The tiny model with a random LM head of its own. The tiny model's head is its embeddings, so
    at random init its greedy step echoes the last token: after the chat template's "assistant\n"
    it answers only newlines, a blank response the judge fails without asking the LLM. This one
    answers with text, for tests of the LLM judge on the eval stage's greedy answers."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    from rtt.models import load_tokenizer

    config = AutoConfig.from_pretrained(tiny_model_dir)
    config.tie_word_embeddings = False
    out = tmp_path_factory.mktemp("models") / "untied"
    with torch.random.fork_rng():
        torch.manual_seed(0)
        AutoModelForCausalLM.from_config(config).save_pretrained(out)
    load_tokenizer(tiny_model_dir).save_pretrained(out)
    return str(out)


@pytest.fixture(scope="session")
def tiny_tokenizer(tiny_model_dir):
    from rtt.models import load_tokenizer

    return load_tokenizer(tiny_model_dir)


@pytest.fixture
def store(tmp_path):
    from rtt.data.store import Store

    return Store(tmp_path / "data")


@pytest.fixture(scope="session")
def s3():
    """A real S3 API on loopback (moto's server) with bucket `lake`; its client settings are in
    os.environ for the session, so this process and the ones it starts reach it."""
    from rtt.testing.s3_server import S3Server

    with S3Server() as server:
        before = {k: os.environ.get(k) for k in server.env}
        os.environ.update(server.env)
        yield server
        for key, value in before.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
