"""The import rules of docs/architecture.md, checked on the source: no import cycle among our
modules (imports inside functions count), and across packages only the names each package
exports.

The graph is read from the files with ``ast`` (nothing is imported), so an import that only
runs in one code path counts as much as one at the top of a module.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Repository folder -> the package it is installed as (pyproject's package-dir).
FOLDERS = {
    "govarchive": "govarchive",
    "crawler": "govarchive.crawler",
    "warc": "govarchive.warc",
    "storage": "govarchive.storage",
    "scheduler": "govarchive.scheduler",
}
PACKAGES = ("crawler", "warc", "storage", "scheduler")
WIRING = "wiring"  # govarchive's own modules: CLI, settings, web
BASE = ("govarchive.times",)  # leaf modules every package may use (they import nothing of ours)

# Data flows one way: fetch, archive, parse, store. Who may import whom.
MAY_IMPORT = {
    "warc": set(),
    "storage": set(),
    "crawler": {"warc", "storage"},
    "scheduler": set(),  # it gets its store and settings loader from the wiring
    WIRING: {"crawler", "warc", "storage", "scheduler"},
}
# The modules another package may import from (docs/architecture.md's table). crawler is
# imported module by module so that importing it alone does not pull in Scrapy.
PUBLIC = {
    "crawler": {
        "govarchive.crawler.run",
        "govarchive.crawler.reparse",
        "govarchive.crawler.extract",
        "govarchive.crawler.selectors",
    },
    "warc": {"govarchive.warc"},
    "storage": {"govarchive.storage"},
    "scheduler": {"govarchive.scheduler"},
}


@dataclass(frozen=True)
class Import:
    importer: str
    imported: str
    line: int

    def __str__(self) -> str:
        return f"{self.importer}:{self.line} imports {self.imported}"


def find_modules(root: Path, folders: dict[str, str]) -> dict[str, tuple[Path, bool]]:
    """Module name -> (file, is a package) for every .py file under the folders."""
    modules = {}
    for folder, package in folders.items():
        for path in sorted((root / folder).rglob("*.py")):
            parts = list(path.relative_to(root / folder).with_suffix("").parts)
            if "migrations" in parts:
                continue  # run by Alembic, never imported
            is_package = parts[-1] == "__init__"
            if is_package:
                parts.pop()
            modules[".".join([package, *parts])] = (path, is_package)
    return modules


def find_imports(modules: dict[str, tuple[Path, bool]]) -> list[Import]:
    """Every import of one of ``modules`` by another, wherever it stands in the file."""

    def resolve(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    found = []
    for module, (path, is_package) in modules.items():
        package = module if is_package else module.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(anchor + ([base] if base else []))
                names = [f"{base}.{alias.name}" for alias in node.names]
            else:
                continue
            for name in names:
                target = resolve(name)
                if target is not None and target != module:
                    found.append(Import(module, target, node.lineno))
    return found


def find_cycles(modules, imports: list[Import]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan), each sorted."""
    edges: dict[str, set[str]] = {m: set() for m in modules}
    for imp in imports:
        edges[imp.importer].add(imp.imported)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles = []

    def visit(start: str) -> None:
        # Iterative, so a deep chain of imports cannot hit the recursion limit.
        work = [(start, iter(sorted(edges[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges[child]))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    group = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        group.append(member)
                        if member == node:
                            break
                    if len(group) > 1:
                        cycles.append(sorted(group))

    for module in sorted(modules):
        if module not in index:
            visit(module)
    return cycles


def package_of(module: str) -> str:
    parts = module.split(".")
    if len(parts) > 1 and parts[1] in PACKAGES:
        return parts[1]
    return WIRING


def boundary_violations(imports: list[Import]) -> list[str]:
    """Imports that cross a package boundary the table does not allow, or reach past the
    names a package exports."""
    faults = []
    for imp in imports:
        if imp.imported in BASE:
            continue
        source, target = package_of(imp.importer), package_of(imp.imported)
        if source == target:
            continue
        if target not in MAY_IMPORT[source]:
            faults.append(f"{imp}: {source} may not depend on {target}")
        elif imp.imported not in PUBLIC[target]:
            allowed = ", ".join(sorted(PUBLIC[target]))
            faults.append(f"{imp}: not a public name of {target} (import from {allowed})")
    return faults


@pytest.fixture(scope="module")
def project():
    modules = find_modules(ROOT, FOLDERS)
    return modules, find_imports(modules)


def test_the_graph_sees_every_package(project):
    modules, imports = project
    assert {package_of(m) for m in modules} == {*PACKAGES, WIRING}
    # Imports inside functions are in the graph: the CLI imports the crawler lazily.
    assert any(i.importer.startswith("govarchive.cli.") and i.imported == "govarchive.crawler.run"
               for i in imports)


def test_no_import_cycles(project):
    modules, imports = project
    assert find_cycles(modules, imports) == []


def test_imports_across_packages_follow_the_table(project):
    _modules, imports = project
    assert boundary_violations(imports) == []


def test_base_modules_import_nothing_of_ours(project):
    _modules, imports = project
    assert [str(i) for i in imports if i.importer in BASE] == []


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def test_the_checks_catch_a_cycle_and_a_boundary_break(tmp_path):
    """The rules above fail on a tree that breaks them (so a passing run means something)."""
    _write(tmp_path, {
        "govarchive/__init__.py": "",
        "warc/__init__.py": "",
        "warc/replay.py": "def text():\n    from govarchive.crawler.extract import decode_html\n",
        "crawler/__init__.py": "",
        "crawler/extract.py": "",
        "crawler/spider.py": "from govarchive.storage.ingest import x\n",
        "storage/__init__.py": "",
        "storage/ingest.py": "from .dedup import y\n",
        "storage/dedup.py": "def f():\n    from govarchive.storage import ingest\n",
        "scheduler/__init__.py": "",
    })
    modules = find_modules(tmp_path, FOLDERS)
    imports = find_imports(modules)
    assert find_cycles(modules, imports) == [
        ["govarchive.storage.dedup", "govarchive.storage.ingest"]
    ]
    faults = boundary_violations(imports)
    assert len(faults) == 2
    assert "govarchive.warc.replay:2 imports govarchive.crawler.extract: warc may not depend on " \
           "crawler" in faults
    assert any(f.startswith("govarchive.crawler.spider:1 imports govarchive.storage.ingest: "
                            "not a public name of storage") for f in faults)
