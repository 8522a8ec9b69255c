"""``govarchive articles show|history|diff`` in process (click's CliRunner)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from govarchive.storage import Store
from tests.builders import T0, FakeCrawl
from tests.crawling import invoke

URL = "https://www.gov.cn/lianbo/difang/202603/content_1.htm"
BODY = "各地区、各部门要加强组织领导，明确责任分工，确保各项措施落到实处。"


@pytest.fixture
def project(tmp_path):
    config = tmp_path / "govarchive.toml"
    config.write_text(
        '[storage]\nurl = "sqlite:///govarchive.db"\n\n[archive]\ndir = "archive"\n',
        encoding="utf-8",
    )
    with Store(f"sqlite:///{tmp_path / 'govarchive.db'}") as store:
        store.migrate()
        crawl = FakeCrawl(store, source="govcn", warc_file="a.warc.gz")
        crawl.article(URL, T0, title="通知", body_text=BODY)
        crawl.article(URL, T0 + timedelta(hours=1), title="通知（修订）", body_text=BODY + "特此通知。")
        crawl.observe(URL, T0 + timedelta(hours=5), "gone", reason="answered 404")
    return config


def test_history_lists_versions_and_events_in_time_order(project):
    result = invoke(project, "articles", "history", "1")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == f"article 1 (live) {URL}"
    assert "version 1 (first capture)" in lines[1] and "[a.warc.gz@1000]" in lines[1]
    assert "version 2 changed: title, body_text" in lines[2]
    assert "gone (answered 404)" in lines[3] and "[a.warc.gz@3000]" in lines[3]
    timeline = json.loads(invoke(project, "articles", "history", "1", "--json").stdout)["timeline"]
    assert [e.get("kind") or e["n"] for e in timeline] == [1, 2, "gone"]


def test_diff_marks_characters_and_colours_only_when_asked(project):
    plain = invoke(project, "articles", "diff", "1")
    assert plain.exit_code == 0, plain.output
    assert plain.stdout.splitlines() == [
        "article 1: version 1 -> 2", "--- title", "通知{+（修订）+}", "--- body_text",
        BODY + "{+特此通知。+}",
    ]
    coloured = invoke(project, "articles", "diff", "1", "--color")
    assert "\x1b[32m{+（修订）+}" in coloured.stdout
    as_json = json.loads(invoke(project, "articles", "diff", "1", "--from", "1", "--to", "2",
                             "--json").stdout)
    assert as_json["fields"]["title"] == [["equal", "通知"], ["insert", "（修订）"]]


def test_show_a_version_and_missing_ids(project):
    result = invoke(project, "articles", "show", "1", "--at-version", "1", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["title"] == "通知"
    current = json.loads(invoke(project, "articles", "show", "1", "--json").stdout)
    assert current["title"] == "通知（修订）" and len(current["versions"]) == 2
    assert invoke(project, "articles", "show", "7").exit_code == 1
    assert invoke(project, "articles", "show", "1", "--at-version", "3").exit_code == 1
    assert invoke(project, "articles", "history", "7").exit_code == 1
    missing = invoke(project, "articles", "diff", "1", "--from", "5")
    assert missing.exit_code == 1 and "no version" in missing.output


def test_show_reads_as_text_not_python(project):
    result = invoke(project, "articles", "show", "1")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "['" not in out and "{'" not in out
    # A version line: its time in local time to the second, the changed fields, the pointer.
    assert "2026-03-01 17:00:00 +08:00" in out  # T0 + 1 h, UTC+8
    assert "changed: title, body_text" in out
    assert "warc: a.warc.gz @2000 (" in out
    assert "first_seen: 2026-03-01 16:00:00 +08:00" in out


def test_history_shows_local_times(project):
    lines = invoke(project, "articles", "history", "1").stdout.splitlines()
    assert lines[1].startswith("2026-03-01 16:00:00 +08:00  version 1")
    assert lines[3].startswith("2026-03-01 21:00:00 +08:00  gone")


def test_a_source_known_only_to_the_database_is_accepted(project):
    # "govcn" is in the database but no longer in the config: its archive stays readable.
    result = invoke(project, "articles", "search", "", "--source", "govcn", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["total"] == 1
    unknown = invoke(project, "articles", "search", "", "--source", "govcm")
    assert unknown.exit_code == 2
    assert 'unknown source "govcm" (known sources: govcn)' in unknown.stderr
