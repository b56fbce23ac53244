"""The package's layout is its pipeline, and imports may only flow down it.

Each stage imports only from the stages before it (and from the foundations:
`record`, `errors`, `files`, `limits`, `disk_cache`); the policy tools, the batch runner and the CLI may import
anything; nothing imports the CLI. docs/architecture.md draws the same order.
A change that breaks this is a change to the design: move the code, or change
the order here and in the doc together.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from helpers import PACKAGE, package_sources

# In pipeline order; a module may import from its own layer and any layer before it.
LAYERS = (
    ("record", "errors", "files", "limits", "disk_cache"),
    ("source",),
    ("language",),
    ("rulebook",),
    ("case",),
    ("compile",),
    ("engines",),
    ("evaluate",),
    ("report",),
    ("session",),
    ("batch", "tooling"),
    ("cli", "__main__"),
)
RANK = {name: rank for rank, names in enumerate(LAYERS) for name in names}


def _unit(module: str) -> str:
    """`assessor.rulebook.read` → `rulebook`: the layer a dotted module name belongs to."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _imports() -> list[tuple[str, int, str]]:
    """(importing file, line, imported assessor module) for every import in the package, lazy ones too."""
    found = []
    for path, tree in package_sources():
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                assert node.level == 0, f"{path}:{node.lineno}: use absolute imports (assessor.…)"
                names = [node.module or ""]
                if node.module == "assessor":
                    names = [f"assessor.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            for name in names:
                if name == "assessor" or name.startswith("assessor."):
                    found.append((str(path.relative_to(PACKAGE.parent)), node.lineno, name))
    return found


def _layer_of(path: str) -> str:
    parts = Path(path).with_suffix("").parts[1:]
    return parts[0]


def test_every_module_belongs_to_a_layer():
    units = {_layer_of(str(p.relative_to(PACKAGE.parent))) for p in PACKAGE.rglob("*.py")}
    assert units - {"__init__"} <= set(RANK), f"modules outside the layer table: {sorted(units - set(RANK))}"


@pytest.mark.parametrize("path,line,module", _imports(), ids=lambda v: str(v))
def test_imports_flow_down_the_pipeline(path, line, module):
    importer, imported = _layer_of(path), _unit(module)
    if imported in ("__init__", "__version__") or module == "assessor.__version__":
        return  # the package root holds only the version
    if importer == "__init__":
        pytest.fail(f"{path}:{line}: the package root imports {module}; keep it to the version")
    assert imported != "cli" or importer in ("cli", "__main__"), f"{path}:{line}: nothing imports the CLI"
    assert RANK[imported] <= RANK[importer], (
        f"{path}:{line}: {importer} (layer {RANK[importer]}) imports {module} (layer {RANK[imported]}), "
        "a later stage; move the code or change the order in LAYERS and docs/architecture.md"
    )


def test_the_package_has_no_import_cycle_between_layers():
    graph: dict[str, set[str]] = {}
    for path, _, module in _imports():
        a, b = _layer_of(path), _unit(module)
        if b not in ("__init__", "__version__") and a != b:
            graph.setdefault(a, set()).add(b)
    seen: set[str] = set()
    stack: list[str] = []

    def visit(node: str) -> None:
        assert node not in stack, f"import cycle: {' → '.join([*stack, node])}"
        if node in seen:
            return
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            visit(nxt)
        stack.pop()
        seen.add(node)

    for node in sorted(graph):
        visit(node)
