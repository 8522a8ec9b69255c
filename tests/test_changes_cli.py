"""``govarchive changes``, in process: JSON lines, the table, filters and errors."""

from __future__ import annotations

import json

import pytest

from tests import change_feed
from tests.crawling import invoke
from tests.test_changes_store import FIELDS

CONFIG = """\
[storage]
url = "{url}"

[archive]
dir = "archive-root"

[[sources]]
name = "difang"
title = "地方政务"
start_urls = ["https://www.example.gov.cn/dfzw/"]
"""


@pytest.fixture
def config(tmp_path, database_url, store):
    feed = change_feed.build(store)
    path = tmp_path / "govarchive.toml"
    path.write_text(CONFIG.format(url=database_url), encoding="utf-8")
    return path, feed


def run_json(path, *args: str) -> list[dict]:
    result = invoke(path, "changes", "--json", *args)
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_json_lines_newest_first_with_every_field(config):
    path, feed = config
    events = run_json(path)
    assert [e["id"] for e in events] == sorted(feed.events.values(), reverse=True)
    assert all(set(e) == FIELDS for e in events)
    edit = next(e for e in events if e["kind"] == "edited")
    assert (edit["summary"], edit["changed"], edit["version"]) == (
        change_feed.EDIT_SUMMARY, ["body_text"], 2)
    assert edit["at"] == "2026-03-01T09:00:00+00:00"


def test_filters(config):
    path, feed = config
    assert [e["id"] for e in run_json(path, "--kind", "edited", "--kind", "removed")] == [
        feed.events["removed_removed"], feed.events["edited_edit"]]
    # A source the database knows, though the config no longer lists it.
    assert {e["source"] for e in run_json(path, "--source", "yaowen")} == {"yaowen"}
    # A time without an offset is read in Asia/Shanghai: 22:00+08:00 is T0 + 6h (the last).
    assert [e["id"] for e in run_json(path, "--since", "2026-03-01T22:00")] == [
        feed.events["html_new"]]
    assert {e["article_id"] for e in run_json(path, "--query", "十五分钟")} == {
        feed.articles["edited"]}
    assert len(run_json(path, "--limit", "2")) == 2


def test_table_shows_local_time_kind_source_title_and_summary(config):
    path, _ = config
    result = invoke(path, "changes", "--kind", "edited")
    assert result.exit_code == 0, result.output
    header, row = result.stdout.splitlines()
    assert header.split()[:4] == ["ID", "TIME", "KIND", "SOURCE"]
    assert "2026-03-01 17:00:00 +08:00" in row
    assert "修改 edited" in row and "地方政务" in row and "关于缩短办理时限的通知" in row
    assert row.endswith(change_feed.EDIT_SUMMARY)
    assert result.stderr.strip() == "1 changes"


def test_bad_kind_unknown_source_and_bad_query(config):
    path, _ = config
    bad_kind = invoke(path, "changes", "--kind", "edit")
    assert bad_kind.exit_code == 2 and "'edit' is not one of" in bad_kind.output
    unknown = invoke(path, "changes", "--source", "nowhere")
    assert unknown.exit_code == 2
    assert 'unknown source "nowhere" (known sources: difang, yaowen)' in unknown.stderr
    bad_query = invoke(path, "changes", "--query", '"防汛')
    assert bad_query.exit_code == 2 and "unbalanced quote" in bad_query.stderr


def test_a_missing_database_is_not_created(tmp_path):
    path = tmp_path / "govarchive.toml"
    path.write_text(CONFIG.format(url="sqlite:///data/govarchive.db"), encoding="utf-8")
    result = invoke(path, "changes")
    assert result.exit_code == 1 and "no database at" in result.stderr
    assert not (tmp_path / "data" / "govarchive.db").exists()
