"""The package's layout holds: each stage imports only what its docstring allows, and no module
imports itself back through others (lazy imports inside functions count too)."""

import ast
import importlib
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "qa"
STAGES = sorted(p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file())


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in PACKAGE.rglob("*.py")}


def imports_of(path: Path) -> set[str]:
    """The qa modules a file imports anywhere in it."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "qa":
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                found.add(sub if sub in MODULES else node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == "qa")
    return found - {module_name(path)}


def unit(module: str) -> str:
    """`qa.store` for qa.store.ann, `qa.errors` for qa.errors: the stage or top-level module."""
    return ".".join(module.split(".")[:2])


def test_the_stages_are_the_pipeline():
    assert STAGES == ["answer", "cluster", "encoders", "indexing", "ingest", "search", "store", "ui"]


@pytest.mark.parametrize("stage", STAGES)
def test_each_stage_imports_only_what_it_says(stage):
    doc = importlib.import_module(f"qa.{stage}").__doc__
    assert doc and len(doc.strip().splitlines()) <= 4, "a stage opens with a short docstring"
    said = re.search(r"May import (.+?)\.\s*$", doc, re.S)
    assert said, f"qa.{stage}'s docstring says what it may import"
    allowed = set(re.findall(r"qa\.\w+", said.group(1))) | {f"qa.{stage}"}
    used = {
        unit(m): name
        for name, path in MODULES.items()
        if name.startswith(f"qa.{stage}.") or name == f"qa.{stage}"
        for m in imports_of(path)
    }
    assert not set(used) - allowed, {u: used[u] for u in set(used) - allowed}


def test_no_import_cycles():
    graph = {name: imports_of(path) for name, path in MODULES.items()}
    state: dict[str, int] = {}

    def visit(name: str, trail: list[str]) -> None:
        state[name] = 1
        for dep in sorted(graph.get(name, ())):
            assert state.get(dep) != 1, " -> ".join([*trail, name, dep])
            if dep not in state:
                visit(dep, [*trail, name])
        state[name] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [])
