"""``govarchive articles search`` and ``govarchive export --format csv|parquet``, in process."""

from __future__ import annotations

import csv
import io
import json

import pytest

from tests import search_corpus
from tests.crawling import invoke

CONFIG = """\
[storage]
url = "{url}"

[archive]
dir = "archive-root"
collection = "test"

[[sources]]
name = "difang"
title = "地方政务"
start_urls = ["https://www.example.gov.cn/dfzw/"]
timezone = "Asia/Shanghai"
"""


@pytest.fixture
def config(tmp_path, database_url, store):
    corpus = search_corpus.build(store)
    path = tmp_path / "govarchive.toml"
    path.write_text(CONFIG.format(url=database_url), encoding="utf-8")
    return path, corpus


def run(config, *args: str):
    path, _ = config
    return invoke(path, *args)


def test_search_json_with_filters(config):
    result = run(config, "articles", "search", "防汛", "--source", "difang", "--published-since",
                 "2026-03-01", "--status", "live", "--json")
    assert result.exit_code == 0, result.output
    found = json.loads(result.stdout)
    assert found["total"] == 2
    assert {item["title"] for item in found["items"]} == {"北京市部署防汛工作", "天津市防汛值班通知"}


def test_search_table_shows_titles_and_count(config):
    result = run(config, "articles", "search", "防汛", "--limit", "2")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split()[:5] == ["id", "published", "source", "status", "title"]
    assert len(lines) == 3
    assert result.stderr.strip() == "5 found, showing 1-2"


def test_search_says_when_counting_stopped_and_counts_on_request(config, monkeypatch):
    from govarchive.storage import search

    monkeypatch.setattr(search, "TOTAL_LIMIT", 10)
    monkeypatch.setattr(search, "RANK_WINDOW", 10)
    result = run(config, "articles", "search", "通知", "--limit", "2")
    assert result.stderr.strip() == (
        "10+ found, showing 1-2 (the newest 10 by relevance, the rest newest first)")
    counted = json.loads(run(config, "articles", "search", "通知", "--exact-total",
                             "--json").stdout)
    assert (counted["total"], counted["total_exact"]) == (search_corpus.FILLER + 1, True)


def test_search_csv_and_limit_beyond_one_page(config):
    result = run(config, "articles", "search", "通知", "--limit", "150", "--csv")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(rows) == search_corpus.FILLER + 1
    assert len({row["id"] for row in rows}) == len(rows)


def test_bad_query_is_a_usage_error(config):
    result = run(config, "articles", "search", '"防汛')
    assert result.exit_code == 2
    assert result.stderr.startswith("error: unbalanced quote")


def test_export_csv_roundtrips_lists_as_json(config, tmp_path):
    out = tmp_path / "articles.csv"
    result = run(config, "export", "--format", "csv", "--source", "difang", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert result.stderr.strip() == f"exported 4 articles to {out}"
    rows = list(csv.DictReader(out.open(encoding="utf-8", newline="")))
    edited = next(r for r in rows if r["title"] == "天津市防汛值班通知")
    assert [v["n"] for v in json.loads(edited["versions"])] == [1, 2]
    assert json.loads(edited["urls"]) == [search_corpus.BASE + "/dfzw/2026-03/08/content_4.htm"]
    assert edited["body_text"] == search_corpus.EDITED_AFTER


def test_export_csv_with_a_byte_order_mark_for_excel(config, tmp_path):
    out = tmp_path / "articles.csv"
    result = run(config, "export", "--format", "csv", "--bom", "-o", str(out))
    assert result.exit_code == 0, result.output
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbfid,") and raw.count(b"\xef\xbb\xbf") == 1
    assert result.stderr.strip().startswith("exported ")
    plain = run(config, "export", "--format", "csv")
    assert not plain.stdout.startswith("\ufeff")
    misuse = run(config, "export", "--bom")
    assert misuse.exit_code == 2 and "--bom goes with --format csv" in misuse.stderr


def test_export_parquet(config, tmp_path):
    pq = pytest.importorskip("pyarrow.parquet")
    out = tmp_path / "articles.parquet"
    result = run(config, "export", "--format", "parquet", "-o", str(out))
    assert result.exit_code == 0, result.output
    table = pq.read_table(out)
    assert table.num_rows == 6 + search_corpus.FILLER
    rows = {row["id"]: row for row in table.to_pylist()}
    edited = rows[config[1].ids["edited"]]
    assert [v["n"] for v in edited["versions"]] == [1, 2]
    assert edited["versions"][1]["changed"] == ["body_text"]
    assert rows[config[1].ids["flood"]]["attachments"][0]["name"] == "防汛预案.pdf"
    assert list(out.parent.glob(".*.tmp")) == []


def test_export_parquet_needs_a_file(config):
    result = run(config, "export", "--format", "parquet")
    assert result.exit_code == 2
    assert "give -o FILE.parquet" in result.stderr


def test_web_command_is_registered(config):
    result = run(config, "web", "--help")
    assert result.exit_code == 0
    assert "--host" in result.stdout and "127.0.0.1" in result.stdout


def test_web_before_init_is_a_storage_error(tmp_path):
    path = tmp_path / "govarchive.toml"
    path.write_text(CONFIG.format(url=f"sqlite:///{tmp_path / 'empty.db'}"), encoding="utf-8")
    result = run((path, None), "web", "--port", "0")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: ") and "govarchive init" in result.stderr
