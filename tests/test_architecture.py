"""The packages' one-way order (STYLE.md, docs/source/architecture.md): nothing lower imports anything higher.

``utils`` -> ``data`` -> ``transforms`` -> ``networks`` -> ``losses`` / ``metrics`` / ``optimizers`` ->
``engines`` / ``handlers`` -> ``apps`` -> ``cli``. Packages of one rank do not import each other, and no module
imports monai_mammo inside a function (the way to dodge an import cycle).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "monai_mammo"
RANK = {
    "utils": 0,
    "data": 1,
    "transforms": 2,
    "networks": 3,
    "losses": 4,
    "metrics": 4,
    "optimizers": 4,
    "engines": 5,
    "handlers": 5,
    "apps": 6,
    "cli": 7,
}


def _imported(module: Path, node: ast.AST) -> list[str]:
    """The monai_mammo modules that an import statement imports, as dotted names."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names if a.name.startswith("monai_mammo")]
    if isinstance(node, ast.ImportFrom):
        if node.level:
            base = list(module.relative_to(PACKAGE.parent).with_suffix("").parts)[: -node.level]
            return [".".join([*base, *([node.module] if node.module else [])])]
        if node.module and node.module.startswith("monai_mammo"):
            return [node.module]
    return []


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_every_package_has_a_rank() -> None:
    packages = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").is_file()}
    assert packages == set(RANK), "give a new package its place in the order (here and in the architecture page)"


@pytest.mark.parametrize("module", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_go_one_way(module: Path) -> None:
    parts = module.relative_to(PACKAGE).parts
    if len(parts) == 1:
        return  # the package's own __init__ / __main__
    own = parts[0]
    for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
        for name in _imported(module, node):
            target = name.split(".")[1] if name.count(".") else None
            if target is None or target == own or target not in RANK:
                continue
            assert RANK[target] < RANK[own], (
                f"{module.relative_to(PACKAGE.parent)} imports {name}: {own} (rank {RANK[own]}) may import only "
                f"lower packages, {target} has rank {RANK[target]}"
            )


@pytest.mark.parametrize("module", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_package_import_inside_functions(module: Path) -> None:
    for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for inner in ast.walk(node):
                assert not _imported(module, inner), (
                    f"{module.relative_to(PACKAGE.parent)}:{inner.lineno} imports monai_mammo inside {node.name}(); "
                    "import at the top (a cycle means a module is in the wrong package)"
                )
