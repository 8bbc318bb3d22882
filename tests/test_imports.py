"""Direction of imports: the library never loads Prefect; only rtt.tracking imports mlflow; vLLM is
loaded only when a vLLM engine is built (its import alone takes seconds); no cycle between
packages; no stage module imports another; test support (`rtt.testing`) is imported by no library
module; nothing in `rtt` imports `flows`."""

import ast
import pathlib
import subprocess
import sys

import rtt

ROOT = pathlib.Path(rtt.__file__).parent
REPO = ROOT.parent


def module_name(path: pathlib.Path) -> str:
    return ".".join(path.relative_to(REPO).with_suffix("").parts).removesuffix(".__init__")


def imported(path: pathlib.Path) -> set[str]:
    """The modules of rtt and flows that `path` imports (at top level or inside functions)."""
    name, out = module_name(path), set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(
                    [*package.split(".")[: len(package.split(".")) - node.level + 1], *filter(None, [base])]
                )
            out.add(base)
            out |= {
                f"{base}.{a.name}"
                for a in node.names
                if (REPO / f"{base}.{a.name}".replace(".", "/")).exists()
                or (REPO / (f"{base}.{a.name}".replace(".", "/") + ".py")).exists()
            }
    return {m for m in out if m.split(".")[0] in ("rtt", "flows")}


def graph() -> dict[str, set[str]]:
    paths = [*ROOT.rglob("*.py"), *(REPO / "flows").rglob("*.py")]
    return {module_name(p): imported(p) for p in paths}


def unit(module: str) -> str:
    """The package a module belongs to for the cycle rule: rtt's subpackages and top-level modules, flows."""
    parts = module.split(".")
    return ".".join(parts[:2]) if parts[0] == "rtt" else parts[0]


def test_importing_every_library_module_loads_neither_prefect_nor_vllm():
    modules = [module_name(p) for p in ROOT.rglob("*.py")]
    code = (
        f"import importlib, sys\nfor m in {modules!r}: importlib.import_module(m)\n"
        "print('prefect' in sys.modules, 'vllm' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False False"


def test_only_the_tracking_module_imports_mlflow():
    offenders = []
    for path in ROOT.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            if any(n == "mlflow" or n.startswith("mlflow.") for n in names) and "tracking" not in path.parts:
                offenders.append(str(path))
    assert offenders == []


def test_no_cycle_between_packages():
    edges: dict[str, set[str]] = {}
    for module, targets in graph().items():
        edges.setdefault(unit(module), set()).update(unit(t) for t in targets if unit(t) != unit(module))

    def reachable(start: str) -> set[str]:
        seen, todo = set(), [start]
        while todo:
            for nxt in edges.get(todo.pop(), ()):
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return seen

    assert [u for u in sorted(edges) if u in reachable(u)] == []


def test_no_stage_module_imports_another():
    stages = {m for m in graph() if m.endswith(".stage")}
    assert len(stages) == 6
    assert {m: sorted(t & stages - {m}) for m, t in graph().items() if m in stages and t & stages - {m}} == {}


def test_the_library_imports_neither_flows_nor_test_support():
    library = {m: t for m, t in graph().items() if m.startswith("rtt") and not m.startswith("rtt.testing")}
    assert {m: sorted(t) for m, t in library.items() if any(unit(x) in ("flows", "rtt.testing") for x in t)} == {}


def test_the_rules_see_what_they_check():
    """The graph finds relative, nested and `from package import module` imports (else the rules pass vacuously)."""
    g = graph()
    assert "rtt.stage_context" in g["rtt.judge.stage"] and "flows.pipeline" in g["flows.cli"]
    assert "rtt.testbed" in g["rtt.rubrics.stage"]  # `from rtt import testbed`
    assert unit("rtt.grpo.stage") == "rtt.grpo" and unit("flows.cli") == "flows" and unit("rtt.runs") == "rtt.runs"
