"""A lake of each kind: the tests that take `any_store` run on a folder and on an object store."""

from __future__ import annotations

import itertools

import pytest

from rtt.data.store import Store

LAKES = itertools.count()  # the session's S3 server is shared: each lake gets a prefix of its own


@pytest.fixture(params=["folder", "s3"])
def any_store(request, tmp_path):
    """An empty lake in a folder, and one on an object store (a real S3 API on loopback)."""
    if request.param == "folder":
        return Store(tmp_path / "data")
    return Store(request.getfixturevalue("s3").url(f"lake-{next(LAKES)}"))
