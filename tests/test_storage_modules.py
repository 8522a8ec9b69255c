"""The shape of the storage and warc packages: no import cycles (imports inside functions
count), the signature maths without SQL, one helper for chunked IN lists."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from govarchive.storage.sql import in_chunks

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = {"storage": "govarchive.storage", "warc": "govarchive.warc"}


def module_files() -> dict[str, Path]:
    """{dotted module name: file} for every module of the two packages."""
    modules = {}
    for folder, package in PACKAGES.items():
        for path in sorted((ROOT / folder).rglob("*.py")):
            parts = path.relative_to(ROOT / folder).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            modules[".".join((package, *parts))] = path
    return modules


def imported_modules(path: Path, known: set[str]) -> set[str]:
    """The package modules ``path`` imports anywhere in it (functions included)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                found.add(submodule if submodule in known else node.module)
    return found & known


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, str] = {}
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = "open"
        path.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == "open":
                return path[path.index(target):] + [target]
            if target not in state and (cycle := visit(target)):
                return cycle
        state[node] = "done"
        path.pop()
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_storage_and_warc_modules_import_each_other_without_cycles():
    modules = module_files()
    graph = {name: imported_modules(path, set(modules)) - {name}
             for name, path in modules.items()}
    assert graph["govarchive.storage.ingest"], "the import scan found nothing: it is broken"
    assert find_cycle(graph) is None, " -> ".join(find_cycle(graph))


def test_find_cycle_sees_an_import_inside_a_function(tmp_path):
    first, second = tmp_path / "first.py", tmp_path / "second.py"
    first.write_text("from pkg.second import b\n", encoding="utf-8")
    second.write_text("def f():\n    from pkg.first import a\n", encoding="utf-8")
    known = {"pkg.first", "pkg.second"}
    graph = {"pkg.first": imported_modules(first, known),
             "pkg.second": imported_modules(second, known)}
    assert find_cycle(graph) == ["pkg.first", "pkg.second", "pkg.first"]


def test_signatures_are_computed_without_sql():
    path = ROOT / "storage" / "signatures.py"
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    assert "sqlalchemy" not in names
    assert not {n for n in names if n.startswith("govarchive.storage.")} - {
        "govarchive.storage.codepoints", "govarchive.storage.content"}


def test_in_lists_are_chunked_by_the_one_helper():
    # Hand-written `for start in range(0, len(ids), CHUNK)` loops drift apart (sizes, off-by-one
    # slices); storage.sql.in_chunks is the one place that cuts lists.
    offenders = [str(path.relative_to(ROOT)) for path in module_files().values()
                 if "range(0, len(" in path.read_text(encoding="utf-8")
                 and path != ROOT / "storage" / "sql.py"]
    assert offenders == []


@pytest.mark.parametrize(("count", "size", "lengths"), [
    (0, 3, []), (3, 3, [3]), (7, 3, [3, 3, 1]), (1001, 500, [500, 500, 1]),
])
def test_in_chunks_keeps_every_value_in_order(count, size, lengths):
    chunks = list(in_chunks(iter(range(count)), size))
    assert [len(chunk) for chunk in chunks] == lengths
    assert [value for chunk in chunks for value in chunk] == list(range(count))
