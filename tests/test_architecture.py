"""The import rules of docs/architecture.md, checked on the source: no import cycle among our
modules (imports inside functions count), and across packages only the names each package
exports."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.import_graph import FOLDERS, ROOT, Import, find_cycles, find_imports, find_modules

PACKAGES = ("crawler", "warc", "storage", "scheduler")
WIRING = "wiring"  # govarchive's own modules: CLI, settings, web
# leaf modules every package may use (they import nothing of ours): dates, the liveness
# probe of a process (govarchive.processes) and the politeness groups of sources
BASE = ("govarchive.times", "govarchive.processes", "govarchive.politeness_groups")

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
        "govarchive.crawler.warm_crawl",
        "govarchive.crawler.reparse",
        "govarchive.crawler.extract",
        "govarchive.crawler.selectors",
        "govarchive.crawler.probe",
        "govarchive.crawler.probe_fetch",
    },
    "warc": {"govarchive.warc"},
    "storage": {"govarchive.storage"},
    "scheduler": {"govarchive.scheduler"},
}


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
