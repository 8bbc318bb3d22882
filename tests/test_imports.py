"""Direction of imports: the library never loads Prefect; only rtt.tracking imports mlflow; vLLM is
loaded only when a vLLM engine is built (its import alone takes seconds)."""

import ast
import pathlib
import subprocess
import sys

import rtt

ROOT = pathlib.Path(rtt.__file__).parent


def test_importing_every_library_module_loads_neither_prefect_nor_vllm():
    modules = [".".join(p.relative_to(ROOT.parent).with_suffix("").parts) for p in ROOT.rglob("*.py")]
    modules = [m.removesuffix(".__init__") for m in modules if m != "rtt.cli"]
    code = (f"import importlib, sys\nfor m in {modules!r}: importlib.import_module(m)\n"
            "print('prefect' in sys.modules, 'vllm' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False False"


def test_only_the_tracking_module_imports_mlflow():
    offenders = []
    for path in ROOT.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            if any(n == "mlflow" or n.startswith("mlflow.") for n in names) and "tracking" not in path.parts:
                offenders.append(str(path))
    assert offenders == []
