"""DESIGN §6: server -> schema -> workflow, never upward; workflow knows no HTTP or GraphQL."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = {
    "workflow": ("strawberry", "starlette", "authlib", "schema", "server", "uvicorn", "httpx"),
    "schema": ("server", "starlette", "authlib", "uvicorn"),
}


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_imports_only_downward(package: str) -> None:
    offenders = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for module in imported_modules(path):
            if module.split(".")[0] in FORBIDDEN[package]:
                offenders.append(f"{path.relative_to(ROOT)} imports {module}")
    assert offenders == []


def test_every_mapped_relationship_raises_on_lazy_load() -> None:
    from sqlalchemy.orm import configure_mappers

    from workflow.models import Base

    configure_mappers()
    lazy = {
        f"{mapper.class_.__name__}.{rel.key}": rel.lazy
        for mapper in Base.registry.mappers
        for rel in mapper.relationships
    }
    assert lazy, "expected at least one mapped relationship"
    assert {key: mode for key, mode in lazy.items() if mode != "raise"} == {}
