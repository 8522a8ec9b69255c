"""The shape of the storage package: the signature maths without SQL, one helper for chunked
IN lists. (No import cycles anywhere: tests/test_architecture.py.)"""

from __future__ import annotations

import pytest

from govarchive.storage.sql import in_chunks
from tests.import_graph import FOLDERS, ROOT, find_imports, find_modules


def test_signatures_are_computed_without_sql():
    path = ROOT / "storage" / "signatures.py"
    source = path.read_text(encoding="utf-8")
    assert "sqlalchemy" not in source
    modules = find_modules(ROOT, FOLDERS)
    ours = {i.imported for i in find_imports(modules)
            if i.importer == "govarchive.storage.signatures"}
    assert ours <= {"govarchive.storage.codepoints", "govarchive.storage.content",
                    "govarchive.times"}


def test_in_lists_are_chunked_by_the_one_helper():
    # Hand-written `for start in range(0, len(ids), CHUNK)` loops drift apart (sizes, off-by-one
    # slices); storage.sql.in_chunks is the one place that cuts lists.
    offenders = [str(path.relative_to(ROOT))
                 for path, _is_package in find_modules(ROOT, FOLDERS).values()
                 if path.parent.name in ("storage", "warc")
                 and "range(0, len(" in path.read_text(encoding="utf-8")
                 and path != ROOT / "storage" / "sql.py"]
    assert offenders == []


@pytest.mark.parametrize(("count", "size", "lengths"), [
    (0, 3, []), (3, 3, [3]), (7, 3, [3, 3, 1]), (1001, 500, [500, 500, 1]),
])
def test_in_chunks_keeps_every_value_in_order(count, size, lengths):
    chunks = list(in_chunks(iter(range(count)), size))
    assert [len(chunk) for chunk in chunks] == lengths
    assert [value for chunk in chunks for value in chunk] == list(range(count))
