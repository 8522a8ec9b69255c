"""The table formats of the export: a CSV Excel opens as UTF-8, Parquet with typed times."""

from __future__ import annotations

import codecs
import csv
import io
from datetime import UTC, datetime, timedelta

import pytest

from govarchive.storage import Store, csv_lines, write_parquet
from tests import search_corpus


@pytest.fixture
def store(database_url):
    with Store(database_url) as store:
        store.migrate()
        corpus = search_corpus.build(store)
        store.corpus = corpus
        yield store


def test_csv_with_bom_starts_with_the_utf8_byte_order_mark(store):
    records = list(store.iter_export(source="difang"))
    plain = "".join(csv_lines(records)).encode("utf-8")
    marked = "".join(csv_lines(records, bom=True)).encode("utf-8")
    assert not plain.startswith(codecs.BOM_UTF8)
    assert marked == codecs.BOM_UTF8 + plain  # the mark once, before the header
    reader = csv.DictReader(io.StringIO(marked.decode("utf-8-sig"), newline=""))
    rows = list(reader)
    assert reader.fieldnames[0] == "id"
    assert {row["title"] for row in rows} >= {"北京市部署防汛工作", "天津市防汛值班通知"}


def test_parquet_times_are_utc_timestamps(store, tmp_path):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    out = tmp_path / "articles.parquet"
    count = write_parquet(store.iter_export(), out)
    table = pq.read_table(out)
    assert table.num_rows == count == 6 + search_corpus.FILLER
    instant = pa.timestamp("us", tz="UTC")
    for name in ("published_at", "first_seen", "last_seen", "last_changed"):
        assert table.schema.field(name).type == instant, name
    captured = table.schema.field("versions").type.value_type.field("captured_at")
    assert captured.type == instant
    rows = {row["id"]: row for row in table.to_pylist()}
    flood = rows[store.corpus.ids["flood"]]
    # 09:00 at +08:00 is the same instant as 01:00 UTC.
    assert flood["published_at"] == datetime(2026, 3, 5, 1, 0, tzinfo=UTC)
    assert flood["first_seen"] == search_corpus.T0
    edited = rows[store.corpus.ids["edited"]]
    assert [v["captured_at"] for v in edited["versions"]] == [
        search_corpus.T0, search_corpus.T0 + timedelta(days=1)]
    assert edited["last_changed"] == search_corpus.T0 + timedelta(days=1)
