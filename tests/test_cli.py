"""The command line, run in process with click's CliRunner against configs in tmp_path."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from govarchive.cli import cli
from govarchive.cli.output import display_width, format_table
from govarchive.settings import load_settings

ROOT = Path(__file__).resolve().parents[1]

CONFIG = """\
[storage]
url = "sqlite:///db/govarchive.db"

[archive]
dir = "archive-root"
collection = "test"

[[sources]]
name = "govcn-difang"
title = "中国政府网 · 地方政务"
start_urls = ["https://www.gov.cn/lianbo/difang/"]
schedule = "*/30 * * * *"

[[sources]]
name = "mee-tzgg"
title = "生态环境部 · 通知公告"
start_urls = ["https://www.mee.gov.cn/xxgk2018/xxgk/xxgk15/"]
[sources.rules]
title = "h2.headline"
"""

PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>关于开展测试工作的通知_中国政府网</title></head>
<body>
<div class="nav">首页 &gt; 政策 &gt; 最新</div>
<h1>关于开展测试工作的通知</h1>
<h2 class="headline">标题规则选中的标题</h2>
<div class="pages-date">2024-03-05 09:30 来源：国务院办公厅</div>
<div id="UCAP-CONTENT">
<p>各省、自治区、直辖市人民政府，国务院各部委、各直属机构：</p>
<p>为做好测试工作，经国务院同意，现就有关事项通知如下。测试工作要坚持问题导向，突出重点。</p>
<p>各地区、各部门要加强组织领导，明确责任分工，确保各项措施落到实处，取得实效。</p>
</div>
</body></html>
"""


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def config(tmp_path) -> Path:
    path = tmp_path / "govarchive.toml"
    path.write_text(CONFIG, encoding="utf-8")
    return path


def run(runner: CliRunner, *args: str):
    # GOVARCHIVE_* variables of the machine running the tests must not leak in.
    return runner.invoke(
        cli, list(args), env={"GOVARCHIVE_CONFIG": None, "GOVARCHIVE_STORAGE__URL": None}
    )


# ---- configuration errors ---------------------------------------------------------------------


def test_missing_config_is_a_usage_error(runner, tmp_path):
    missing = tmp_path / "missing.toml"
    result = run(runner, "--config", str(missing), "sources")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.strip() == (
        f"config error: {missing}: file not found "
        "(pass --config PATH, set $GOVARCHIVE_CONFIG, or create ./govarchive.toml)"
    )


def test_config_error_printed_as_is(runner, tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("[crawl]\ndelai = 2\n", encoding="utf-8")
    result = run(runner, "--config", str(path), "sources")
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        f'config error: {path}:2: unknown key "delai" in [crawl] (did you mean "delay"?)'
    )


def test_every_config_error_is_printed_one_a_line(runner, tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text(
        '[crawl]\ndelai = 2\n\n[service]\nrun_timeout = "soon"\n\n'
        '[[sources]]\nname = "govcn-difang"\n',
        encoding="utf-8",
    )
    result = run(runner, "--config", str(path), "sources")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f'config error: {path}:2: unknown key "delai" in [crawl] (did you mean "delay"?)',
        f"config error: {path}:5: invalid duration 'soon' "
        '(write a number with a unit: "20s", "30m", "6h", "1d")',
        f'config error: {path}:7: missing key "start_urls" in [[sources]] #1 '
        "(section list pages (http/https))",
    ]


def test_environment_reaches_the_settings(runner, config):
    result = runner.invoke(
        cli, ["--config", str(config), "sources"], env={"GOVARCHIVE_CRAWL__DELAY": "never"}
    )
    assert result.exit_code == 2
    assert result.stderr.startswith("config error: $GOVARCHIVE_CRAWL__DELAY: ")


# ---- sources ------------------------------------------------------------------------------------


def test_sources_lists_a_table(runner, config):
    result = run(runner, "--config", str(config), "sources")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["NAME", "TITLE", "SCHEDULE", "START", "URLS"]
    assert lines[1].split()[:2] == ["govcn-difang", "中国政府网"]
    assert "*/30 * * * *" in lines[1] and "https://www.gov.cn/lianbo/difang/" in lines[1]
    assert "(on demand)" in lines[2]
    # columns line up on screen even with double-width characters
    assert display_width(lines[1].split("*/30")[0]) == display_width(
        lines[2].split("(on demand)")[0]
    )
    assert result.stderr == ""


def test_sources_check_reports_each_source(runner, config):
    pytest.importorskip("govarchive.crawler.selectors")
    result = run(runner, "--config", str(config), "sources", "--check")
    assert result.exit_code == 0, result.output
    assert "ok govcn-difang: rules none (found automatically)" in result.stderr
    assert "ok mee-tzgg: rules title" in result.stderr


def test_sources_check_fails_on_a_bad_rule(runner, config):
    pytest.importorskip("govarchive.crawler.selectors")
    config.write_text(CONFIG.replace('"h2.headline"', '"h2[["'), encoding="utf-8")
    result = run(runner, "--config", str(config), "sources", "--check")
    assert result.exit_code == 2
    assert result.stderr.startswith(
        f"config error: {config}:19: invalid rules.title selector 'h2[['"
    )


def test_format_table_pads_by_display_width():
    assert format_table([("A", "B"), ("地方", "x")]).splitlines() == ["A     B", "地方  x"]


# ---- init, export, runs ------------------------------------------------------------------------


def test_init_creates_folders_and_database_and_is_idempotent(runner, config, tmp_path):
    pytest.importorskip("govarchive.storage.store")
    for _ in range(2):
        result = run(runner, "--config", str(config), "init")
        assert result.exit_code == 0, result.output
        assert result.stdout == ""
    collection = tmp_path / "archive-root" / "collections" / "test"
    assert (collection / "archive").is_dir()
    assert (collection / "indexes").is_dir()
    assert (tmp_path / "db" / "govarchive.db").is_file()


def test_init_example_config_writes_a_starter_that_init_then_uses(runner, tmp_path):
    pytest.importorskip("govarchive.storage.store")
    path = tmp_path / "site" / "govarchive.toml"
    path.parent.mkdir()
    result = run(runner, "init", "--example-config", str(path))
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert f"wrote {path}" in result.stderr
    assert f"govarchive --config {path} init" in result.stderr
    assert path.read_bytes() == (ROOT / "deploy" / "govarchive.toml").read_bytes()
    assert sorted(p.name for p in path.parent.iterdir()) == ["govarchive.toml"]  # nothing else

    settings = load_settings(path, env={})
    assert [s.name for s in settings.sources][:1] == ["govcn-difang"]
    result = run(runner, "--config", str(path), "init")
    assert result.exit_code == 0, result.output
    assert (path.parent / "data" / "govarchive.db").is_file()
    assert settings.archive.archive_path.is_dir()


def test_init_example_config_never_overwrites(runner, config):
    before = config.read_bytes()
    result = run(runner, "init", "--example-config", str(config))
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        f"error: {config} exists; not overwriting it (remove it or name another PATH)"
    )
    assert config.read_bytes() == before


def test_init_example_config_defaults_to_the_working_folder(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "govarchive", "init", "--example-config"],
        cwd=tmp_path, capture_output=True, text=True, timeout=60,
        env={k: v for k, v in os.environ.items() if not k.startswith("GOVARCHIVE_")},
    )
    assert done.returncode == 0, done.stderr
    assert "govarchive --config govarchive.toml init" in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["govarchive.toml"]


def test_export_on_an_empty_database(runner, config, tmp_path):
    pytest.importorskip("govarchive.storage.store")
    assert run(runner, "--config", str(config), "init").exit_code == 0
    result = run(runner, "--config", str(config), "export")
    assert result.exit_code == 0, result.output
    assert result.output == ""
    out = tmp_path / "out" / "articles.jsonl"
    out.parent.mkdir()
    out.write_text("old contents\n", encoding="utf-8")
    result = run(
        runner,
        "--config",
        str(config),
        "export",
        "--source",
        "govcn-difang",
        "--changed-since",
        "2024-01-01",
        "-o",
        str(out),
    )
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8") == ""
    assert sorted(p.name for p in out.parent.iterdir()) == ["articles.jsonl"]  # no temp file left
    assert f"exported 0 articles to {out}" in result.stderr


def test_export_before_init_is_a_storage_error(runner, config):
    pytest.importorskip("govarchive.storage.store")
    (config.parent / "db").mkdir()
    result = run(runner, "--config", str(config), "export")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: ")
    assert result.stdout == ""


def test_export_rejects_a_bad_date(runner, config):
    result = run(runner, "--config", str(config), "export", "--changed-since", "last week")
    assert result.exit_code == 2
    assert "'last week' is not a date" in result.stderr


def test_runs_on_an_empty_database(runner, config):
    pytest.importorskip("govarchive.storage.store")
    assert run(runner, "--config", str(config), "init").exit_code == 0
    result = run(runner, "--config", str(config), "runs", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == []
    result = run(
        runner, "--config", str(config), "runs", "--source", "govcn-difang", "--limit", "5"
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.split() == [
        "ID",
        "SOURCE",
        "STATUS",
        "STARTED",
        "AT",
        "FINISHED",
        "AT",
        "REQUESTS",
        "NEW",
        "ARTICLES",
        "NEW",
        "VERSIONS",
        "REMOVED",
        "BYTES",
        "ARCHIVED",
        "ERROR",
    ]


# ---- crawl ------------------------------------------------------------------------------------


@pytest.mark.parametrize("args", [[], ["govcn-difang", "--all"]])
def test_crawl_needs_sources_or_all(runner, config, args):
    result = run(runner, "--config", str(config), "crawl", *args)
    assert result.exit_code == 2
    assert "name the sources to crawl, or pass --all (not both)" in result.stderr


def test_crawl_unknown_source_lists_the_known(runner, config):
    result = run(runner, "--config", str(config), "crawl", "govcn")
    assert result.exit_code == 2
    assert (
        result.stderr.strip()
        == 'error: unknown source "govcn" (known sources: govcn-difang, mee-tzgg)'
    )


class FakeSummary:
    exit_code = 1

    def summary_text(self) -> str:
        return "govcn-difang: failed (run 1)"


def test_crawl_calls_run_crawl_and_exits_with_its_code(runner, config, monkeypatch):
    run_module = pytest.importorskip("govarchive.crawler.run")
    calls = []

    def fake_run_crawl(settings, source_names, **options):
        calls.append((settings.config_path, source_names, options))
        return FakeSummary()

    monkeypatch.setattr(run_module, "run_crawl", fake_run_crawl)
    # The crawl takes its sources' crawl locks and closes their dead runs: it needs a database.
    assert run(runner, "--config", str(config), "init").exit_code == 0
    result = run(
        runner,
        "--config",
        str(config),
        "crawl",
        "--all",
        "--max-list-pages",
        "2",
    )
    assert result.exit_code == 1
    assert result.stderr.strip() == "govcn-difang: failed (run 1)"
    assert result.stdout == ""
    assert calls == [
        (config, ["govcn-difang", "mee-tzgg"],
         {"max_list_pages": 2, "verbose": False, "run_id": None, "revisit": "due"})
    ]
    run(runner, "--config", str(config), "crawl", "mee-tzgg", "mee-tzgg")
    assert calls[-1][1:] == (
        ["mee-tzgg"], {"max_list_pages": None, "verbose": False, "run_id": None, "revisit": "due"}
    )


# ---- extract ----------------------------------------------------------------------------------


@pytest.fixture
def page(tmp_path) -> Path:
    path = tmp_path / "content_1.htm"
    path.write_bytes(PAGE.encode("utf-8"))
    return path


def test_extract_json_without_a_config(runner, page, tmp_path):
    pytest.importorskip("govarchive.crawler.extract")
    url = "https://www.gov.cn/zhengce/content/content_1.htm"
    result = run(
        runner,
        "--config",
        str(tmp_path / "absent.toml"),
        "extract",
        str(page),
        "--url",
        url,
        "--json",
    )
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    assert record["url"] == url
    assert record["title"] == "关于开展测试工作的通知"
    assert record["published_at"].startswith("2024-03-05T09:30:00+08:00")
    assert "现就有关事项通知如下" in record["body_text"]
    assert "现就有关事项通知如下" in result.stdout  # ensure_ascii=False: readable Chinese


def test_extract_with_a_source_uses_its_rules(runner, config, page):
    pytest.importorskip("govarchive.crawler.extract")
    result = run(runner, "--config", str(config), "extract", str(page), "--source", "mee-tzgg")
    assert result.exit_code == 0, result.output
    assert "title: 标题规则选中的标题" in result.stdout.splitlines()
    assert f"url: {page.resolve().as_uri()}" in result.stdout.splitlines()
    assert "现就有关事项通知如下" in result.stdout


def test_extract_unknown_source(runner, config, page):
    pytest.importorskip("govarchive.crawler.extract")
    result = run(runner, "--config", str(config), "extract", str(page), "--source", "nope")
    assert result.exit_code == 2
    assert 'unknown source "nope"' in result.stderr


def test_extract_not_html(runner, tmp_path):
    pytest.importorskip("govarchive.crawler.extract")
    pdf = tmp_path / "file.pdf"
    pdf.write_bytes(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n")
    result = run(runner, "extract", str(pdf))
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: {pdf} is not an HTML page")


def test_python_dash_m_runs_the_cli():
    result = subprocess.run(
        [sys.executable, "-m", "govarchive", "--version"],
        check=False,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "govarchive, version 0.1.0"


def test_database_urls_print_without_their_password():
    from govarchive.cli.output import safe_url

    assert safe_url("postgresql+psycopg://archive:s3cret@db/govarchive") == (
        "postgresql+psycopg://archive:***@db/govarchive"
    )


@pytest.mark.parametrize("command", [
    ["runs"], ["export"], ["articles", "show", "1"], ["articles", "search", "通知"],
    ["warc", "wacz", "out.wacz"],
])
def test_read_only_commands_never_create_a_database(runner, config, tmp_path, command):
    result = run(runner, "--config", str(config), *command)
    assert result.exit_code == 1
    assert "no database at" in result.stderr and "govarchive init" in result.stderr
    assert not (tmp_path / "db" / "govarchive.db").exists()
    assert not (tmp_path / "db").exists() or not any((tmp_path / "db").iterdir())


@pytest.mark.parametrize("command", [
    ["runs", "--source", "nope"], ["export", "--source", "nope"],
    ["articles", "search", "通知", "--source", "nope"],
    ["warc", "wacz", "out.wacz", "--source", "nope"],
])
def test_an_unknown_source_is_an_error_everywhere(runner, config, command):
    pytest.importorskip("govarchive.storage.store")
    assert run(runner, "--config", str(config), "init").exit_code == 0
    result = run(runner, "--config", str(config), *command)
    assert result.exit_code == 2, result.output
    assert 'unknown source "nope" (known sources: govcn-difang, mee-tzgg)' in result.stderr


def test_search_takes_one_output_format(runner, config):
    pytest.importorskip("govarchive.storage.store")
    assert run(runner, "--config", str(config), "init").exit_code == 0
    result = run(runner, "--config", str(config), "articles", "search", "x", "--json", "--csv")
    assert result.exit_code == 2
    assert "choose one" in result.stderr


def test_runs_table_shows_local_times(runner, config):
    pytest.importorskip("govarchive.storage.store")
    from datetime import UTC, datetime

    from govarchive.settings import load_settings
    from govarchive.storage import Store

    assert run(runner, "--config", str(config), "init").exit_code == 0
    with Store(load_settings(config).storage.url,
               clock=lambda: datetime(2026, 3, 1, 8, 0, 5, tzinfo=UTC)) as store:
        store.start_run(["govcn-difang"])
    table = run(runner, "--config", str(config), "runs").stdout
    assert "2026-03-01 16:00:05 +08:00" in table
