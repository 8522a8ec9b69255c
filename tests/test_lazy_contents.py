"""crawler.lazy: what a run reads from the database only when it needs it (a list page
answering 304 needs neither the known article URLs nor the archived requisites)."""

from __future__ import annotations

from collections.abc import Mapping, Set

from govarchive.crawler.lazy import LazyMapping, LazySet


def test_a_lazy_set_reads_once_on_first_use():
    reads = []
    known = LazySet(lambda: reads.append("read") or {"http://a/1", "http://a/2"})
    assert isinstance(known, Set) and not known.loaded and reads == []
    assert "http://a/1" in known and "http://a/3" not in known
    assert len(known) == 2 and sorted(known) == ["http://a/1", "http://a/2"]
    assert known.loaded and reads == ["read"]


def test_a_lazy_mapping_reads_once_on_first_use():
    reads = []
    targets = LazyMapping(lambda: reads.append("read") or {"http://a/s.css": 1})
    assert isinstance(targets, Mapping) and reads == []
    # Requisites keeps the mapping as given (``targets if targets is not None``): asking
    # whether it is empty would read it.
    assert targets.get("http://a/s.css") == 1 and targets.get("http://a/x.png") is None
    assert dict(targets) == {"http://a/s.css": 1} and reads == ["read"]
