"""The settings model: defaults, files, environment, overrides, and errors that name a line."""

from __future__ import annotations

import textwrap
import tomllib
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pydantic
import pytest

from govarchive.settings import (
    ConfigError,
    ConfigProblem,
    Settings,
    SourceSettings,
    UnknownSourceError,
    example_config,
    load_settings,
    parse_duration,
    parse_size,
)

ROOT = Path(__file__).resolve().parents[1]

SOURCE = """
[[sources]]
name = "govcn-difang"
title = "中国政府网 · 地方政务"
start_urls = ["https://www.gov.cn/lianbo/difang/"]
schedule = "*/30 * * * *"
"""


def write(tmp_path: Path, text: str, name: str = "govarchive.toml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def error_of(path: Path, env: dict | None = None, overrides: dict | None = None) -> str:
    with pytest.raises(ConfigError) as info:
        load_settings(path, env=env or {}, overrides=overrides)
    return str(info.value)


# ---- loading --------------------------------------------------------------------------------


def test_defaults_from_an_empty_file(tmp_path):
    settings = load_settings(write(tmp_path, ""), env={})
    assert settings.sources == ()
    assert settings.config_path == tmp_path / "govarchive.toml"
    assert settings.base_dir == tmp_path
    assert settings.storage.url == f"sqlite:///{tmp_path}/data/govarchive.db"
    assert settings.archive.dir == tmp_path / "data/archive"
    assert settings.archive.max_file_size == 1 << 30
    crawl = settings.crawl
    assert crawl.user_agent.startswith("govarchive/0.1.0 (+https://")
    assert (crawl.obey_robots, crawl.delay, crawl.concurrency_per_host) == (True, 1.0, 2)
    assert (crawl.allow_private_addresses, crawl.autothrottle, crawl.concurrency) == (
        False,
        True,
        16,
    )
    assert (crawl.timeout, crawl.max_attachment_size, crawl.attachments, crawl.retries) == (
        30.0,
        20 << 20,
        True,
        2,
    )


def test_a_full_source(tmp_path):
    path = write(
        tmp_path,
        """
        [archive]
        dir = "warcs"
        collection = "gov"
        max_file_size = "500MB"

        [crawl]
        timeout = "2m"
        max_attachment_size = 1000

        [[sources]]
        name = "govcn-difang"
        start_urls = ["https://www.gov.cn/lianbo/difang/", "http://www.gov.cn/lianbo/difang/"]
        schedule = "every 30m"
        timezone = "Asia/Urumqi"
        max_list_pages = 2
        [sources.tracking]
        revisit = ["1h:every-run", "2d:12h"]
        removal_confirmations = 3
        removal_min_interval = "36h"
        max_revisits = 500
        """,
    )
    settings = load_settings(path, env={})
    assert settings.archive.collection_path == tmp_path / "warcs/collections/gov"
    assert settings.archive.archive_path == tmp_path / "warcs/collections/gov/archive"
    assert settings.archive.max_file_size == 500 << 20
    assert settings.crawl.timeout == 120.0
    assert settings.crawl.max_attachment_size == 1000
    source = settings.source("govcn-difang")
    assert source.title == "govcn-difang"  # the name stands in for a missing title
    assert len(source.start_urls) == 2
    assert source.schedule_interval == timedelta(minutes=30)
    assert (source.timezone, source.max_list_pages) == ("Asia/Urumqi", 2)
    assert source.tracking.revisit_steps == (
        (timedelta(hours=1), None),
        (timedelta(days=2), timedelta(hours=12)),
    )
    assert source.tracking.removal_confirmations == 3
    assert source.tracking.removal_min_interval == timedelta(hours=36)
    assert source.tracking.max_revisits == 500
    assert settings.source("govcn-difang").tracking.max_revisits == 500
    assert source.rules.extract_rules() == {}


def test_settings_are_frozen(tmp_path):
    settings = load_settings(write(tmp_path, SOURCE), env={})
    with pytest.raises(pydantic.ValidationError):
        settings.crawl.delay = 5  # type: ignore[misc]


def test_relative_paths_resolve_against_the_config_folder(tmp_path):
    sub = tmp_path / "etc"
    sub.mkdir()
    path = write(
        sub,
        """
        [storage]
        url = "sqlite:///../db/archive.db?timeout=5"
        [archive]
        dir = "../warc"
        """,
    )
    settings = load_settings(path, env={})
    assert settings.storage.url == f"sqlite:///{sub}/../db/archive.db?timeout=5"
    assert settings.storage.sqlite_path == sub / "../db/archive.db"
    assert settings.archive.dir == sub / "../warc"


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:////var/lib/govarchive.db",
        "sqlite://",
        "sqlite:///:memory:",
        "postgresql+psycopg://archive@db/govarchive",
    ],
)
def test_absolute_and_non_file_urls_are_kept(tmp_path, url):
    path = write(tmp_path, f'[storage]\nurl = "{url}"\n')
    assert load_settings(path, env={}).storage.url == url


def test_config_from_the_environment_variable(tmp_path):
    path = write(tmp_path, SOURCE, name="other.toml")
    settings = load_settings(env={"GOVARCHIVE_CONFIG": str(path)})
    assert settings.config_path == path


def test_environment_overrides_the_file_and_overrides_win(tmp_path):
    path = write(tmp_path, "[crawl]\ndelay = 1.5\nobey_robots = true\n" + SOURCE)
    env = {
        "GOVARCHIVE_CRAWL__DELAY": "2.5",
        "GOVARCHIVE_CRAWL__OBEY_ROBOTS": "false",
        "GOVARCHIVE_CRAWL__USER_AGENT": "probe/1 (+mailto:ops@example.org)",
        "GOVARCHIVE_STORAGE__URL": "postgresql+psycopg://archive@db/govarchive",
        "GOVARCHIVE_ARCHIVE__DIR": "/srv/warc",
        "GOVARCHIVE_SOURCES__0__SCHEDULE": "every 6h",
        "GOVARCHIVE_TEST_DATABASE_URL": "ignored: not a nested key",
    }
    settings = load_settings(path, env=env)
    assert settings.crawl.delay == 2.5
    assert settings.crawl.obey_robots is False
    assert settings.crawl.user_agent == "probe/1 (+mailto:ops@example.org)"
    assert settings.storage.url == "postgresql+psycopg://archive@db/govarchive"
    assert settings.archive.dir == Path("/srv/warc")
    assert settings.sources[0].schedule == "every 6h"
    settings = load_settings(path, env=env, overrides={"crawl.delay": 0, "archive.dir": "rel"})
    assert settings.crawl.delay == 0
    assert settings.archive.dir == tmp_path / "rel"


def test_source_lookup_names_the_known_sources(tmp_path):
    settings = load_settings(write(tmp_path, SOURCE), env={})
    assert settings.source("govcn-difang").title == "中国政府网 · 地方政务"
    with pytest.raises(UnknownSourceError) as info:
        settings.source("govcn")
    assert str(info.value) == 'unknown source "govcn" (known sources: govcn-difang)'


def test_models_validate_without_a_file():
    source = SourceSettings(name="a", start_urls=["https://example.org/"])
    settings = Settings(sources=[source])
    assert settings.source("a").timezone == "Asia/Shanghai"
    with pytest.raises(pydantic.ValidationError):
        Settings(sources=[source, source])


@pytest.mark.parametrize(
    "text, size",
    [
        ("1GB", 1 << 30),
        ("500MB", 500 << 20),
        ("20 MiB", 20 << 20),
        ("1.5k", 1536),
        (4096, 4096),
        ("100", 100),
    ],
)
def test_sizes(text, size):
    assert parse_size(text) == size


@pytest.mark.parametrize(
    "text, seconds",
    [("20s", 20), ("30m", 1800), ("6h", 21600), ("1d", 86400), ("2w", 1209600), (90, 90)],
)
def test_durations(text, seconds):
    assert parse_duration(text) == timedelta(seconds=seconds)


def test_the_example_config_loads_and_documents_every_key():
    example = ROOT / "deploy" / "govarchive.toml"
    settings = load_settings(example, env={})
    names = [s.name for s in settings.sources]
    # The README's first command crawls the first source.
    assert names[:4] == ["govcn-difang", "govcn-zhengce", "mee-tzgg", "beijing-zwdt"]
    assert len(names) >= 12 and len(set(names)) == len(names)
    hosts = {urlsplit(url).hostname for s in settings.sources for url in s.start_urls}
    assert all(h.endswith((".gov.cn", ".gov.hk", ".gov.mo")) for h in hosts)
    assert settings.storage.url == f"sqlite:///{example.parent}/data/govarchive.db"
    text = example.read_text(encoding="utf-8")
    from govarchive import settings as module

    models = [
        module.StorageSettings,
        module.ArchiveSettings,
        module.CrawlSettings,
        module.SourceSettings,
        module.RulesSettings,
        module.TrackingSettings,
    ]
    undocumented = [
        f"{m.__name__}.{key}" for m in models for key in m.model_fields if key not in text
    ]
    assert undocumented == []


def test_the_packaged_example_config_is_the_deploy_one_byte_for_byte():
    # `govarchive init --example-config` writes the packaged copy; deploy/ keeps the same text
    # for the Dockerfile and the systemd unit. Change both together.
    assert example_config() == (ROOT / "deploy" / "govarchive.toml").read_bytes()


def test_the_example_config_is_package_data():
    # Without the package-data entry a wheel (pip install) would not hold the file.
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    package_data = pyproject["tool"]["setuptools"]["package-data"]
    assert "example-config.toml" in package_data["govarchive.settings"]
    assert (ROOT / "govarchive" / "settings" / "example-config.toml").is_file()


# ---- errors: each names the file and the line -------------------------------------------------


def test_missing_file(tmp_path):
    path = tmp_path / "nope.toml"
    assert error_of(path) == (
        f"config error: {path}: file not found "
        "(pass --config PATH, set $GOVARCHIVE_CONFIG, or create ./govarchive.toml)"
    )


def test_unknown_key_suggests_the_close_one(tmp_path):
    path = write(tmp_path, "[storage]\nurl = 'sqlite://'\n\n[crawl]\n# slow down\ndelai = 2\n")
    assert (
        error_of(path)
        == f'config error: {path}:6: unknown key "delai" in [crawl] (did you mean "delay"?)'
    )


def test_unknown_table_lists_the_known_keys(tmp_path):
    path = write(tmp_path, "[crawl]\ndelay = 2\n[proxy]\nport = 1\n")
    assert error_of(path) == (
        f'config error: {path}:3: unknown key "proxy" at the top level '
        "(known keys: storage, archive, crawl, sources, service, web, watches)"
    )


def test_toml_syntax_error_keeps_its_line(tmp_path):
    path = write(tmp_path, "[crawl]\ndelay = 2\nobey_robots = yes\n")
    assert error_of(path) == f"config error: {path}:3: Invalid value (TOML syntax, column 15)"


def test_bad_value_names_key_and_line(tmp_path):
    path = write(tmp_path, "[crawl]\ndelay = 1\nconcurrency_per_host = 0\n")
    message = error_of(path)
    assert message.startswith(
        f"config error: {path}:3: invalid concurrency_per_host = 0 in [crawl]: "
    )
    assert message.endswith("(parallel requests to one host)")


def test_a_table_given_as_a_value_points_at_the_example_config(tmp_path):
    path = write(tmp_path, "# not a table\ncrawl = 3\n")
    message = error_of(path)
    assert message.startswith(f"config error: {path}:2: invalid crawl = 3 at the top level: ")
    assert message.endswith("(see `govarchive init --example-config`)")


def test_bad_cron_points_at_the_schedule(tmp_path):
    path = write(tmp_path, SOURCE.replace('"*/30 * * * *"', '"61 * * * *"'))
    message = error_of(path)
    assert message.startswith(f"config error: {path}:5: invalid schedule '61 * * * *': ")
    assert message.endswith('(use 5 cron fields like "*/30 * * * *", or "every 30m" / "every 6h")')


def test_duplicate_source_name_points_at_the_second(tmp_path):
    second = SOURCE.replace("title = ", "# the same name again\ntitle = ")
    path = write(tmp_path, SOURCE + "\n" + second)
    assert error_of(path) == (
        f'config error: {path}:9: duplicate source name "govcn-difang" '
        "(source #1 already uses it; names are unique)"
    )


def test_missing_start_urls_points_at_the_source_table(tmp_path):
    path = write(tmp_path, SOURCE + '\n[[sources]]\nname = "b"\n')
    assert error_of(path) == (
        f'config error: {path}:7: missing key "start_urls" in [[sources]] #2 '
        "(section list pages (http/https))"
    )


def test_unknown_key_in_a_later_sources_subtable(tmp_path):
    text = (
        SOURCE
        + '''
[[sources]]
name = "b"
title = """a title
spanning [lines]"""
start_urls = [
    "https://www.gov.cn/zhengce/zuixin/",  # a comment
]
[sources.tracking]
removal_confirmation = 3
'''
    )
    path = write(tmp_path, text)
    assert error_of(path) == (
        f'config error: {path}:15: unknown key "removal_confirmation" in '
        '[sources.tracking] (source #2) (did you mean "removal_confirmations"?)'
    )


@pytest.mark.parametrize(
    "line, expected",
    [
        ('start_urls = ["ftp://www.gov.cn/x"]', "invalid start URL 'ftp://www.gov.cn/x'"),
        ("start_urls = []", "invalid start_urls = [] in [[sources]] #1"),
        ('timezone = "Asia/Beijing"', "unknown timezone 'Asia/Beijing'"),
        ('name = "Gov_CN"', "invalid name = 'Gov_CN' in [[sources]] #1"),
        ('tracking.revisit = ["1d:1h", "3h"]', "invalid revisit step '3h'"),
        ('tracking.revisit = ["1d:1h", "3h:1h"]', "revisit step '3h:1h' is out of order"),
        ('tracking.removal_min_interval = "soon"', "invalid duration 'soon'"),
        ("tracking.max_revisits = -1", "invalid max_revisits = -1"),
        ('schedule = "every 0m"', "invalid schedule 'every 0m'"),
    ],
)
def test_source_value_errors(tmp_path, line, expected):
    key = line.split(" ")[0].split(".")[0]
    text = "\n".join(x for x in SOURCE.strip().splitlines() if not x.startswith(key + " ")) + "\n"
    path = write(tmp_path, text + line + "\n")
    assert error_of(path).startswith(
        f"config error: {path}:{len(text.splitlines()) + 1}: {expected}"
    )


def test_bad_selector_uses_the_rule_error_as_hint(tmp_path):
    selectors = pytest.importorskip("govarchive.crawler.selectors")
    path = write(tmp_path, SOURCE + '[sources.rules]\ntitle = "h1"\nbody = "div[[x"\n')
    with pytest.raises(selectors.RuleError) as rule_error:
        selectors.compile_rule("div[[x")
    assert error_of(path) == (
        f"config error: {path}:8: invalid rules.body selector 'div[[x' ({rule_error.value})"
    )
    good = write(tmp_path, SOURCE + '[sources.rules]\ntitle = "h1"\nbody = "//div[@id=\'c\']"\n')
    assert load_settings(good, env={}).sources[0].rules.extract_rules() == {
        "title": "h1",
        "body": "//div[@id='c']",
    }


def test_environment_errors_name_the_variable(tmp_path):
    path = write(tmp_path, "[crawl]\ndelay = 1\n")
    message = error_of(path, env={"GOVARCHIVE_CRAWL__DELAY": "soon"})
    assert message.startswith(
        "config error: $GOVARCHIVE_CRAWL__DELAY: invalid delay = 'soon' in [crawl]"
    )
    assert error_of(path, env={"GOVARCHIVE_CRAWL__DELAI": "2"}) == (
        'config error: $GOVARCHIVE_CRAWL__DELAI: unknown key "delai" in [crawl] '
        '(did you mean "delay"?)'
    )
    message = error_of(path, env={"GOVARCHIVE_CRAWL__DELAY__X": "2"})
    assert message.startswith(
        'config error: $GOVARCHIVE_CRAWL__DELAY__X: "crawl.delay.x" does not name'
    )


def test_override_errors_name_the_override(tmp_path):
    path = write(tmp_path, "")
    assert error_of(path, overrides={"crawl.retries": -1}).startswith(
        "config error: override crawl.retries: invalid retries = -1 in [crawl]"
    )


def test_program_keys_cannot_be_set_in_the_file(tmp_path):
    path = write(tmp_path, '# set by the program\nbase_dir = "/"\n')
    assert error_of(path) == (
        f'config error: {path}:2: unknown key "base_dir" at the top level '
        "(it is set by the program)"
    )


def test_lines_survive_tricky_toml(tmp_path):
    # Strings holding brackets, quotes and '#', multi-line values, quoted and dotted keys,
    # inline tables and CRLF line ends must not throw the line count off.
    text = (
        "[crawl]\r\n"
        "user_agent = 'probe [x] # \"not a comment\"'\r\n"
        '"delay" = 1\r\n'
        "[[sources]]\r\n"
        'name = "a"\r\n'
        "title = '''line [one]\r\n"
        "line = two'''\r\n"
        "start_urls = [\r\n"
        '  "https://www.gov.cn/a/", # [sources]\r\n'
        '  "https://www.gov.cn/b/",\r\n'
        "]\r\n"
        'tracking = { removal_confirmations = 2, "revisit" = ["1d:1h"] }\r\n'
        "[[sources]]\r\n"
        'name = "b"\r\n'
        'start_urls = ["https://www.gov.cn/c/"]\r\n'
        "tracking = { removal_confirmations = 0 }\r\n"
    )
    path = tmp_path / "tricky.toml"
    path.write_bytes(text.encode("utf-8"))
    message = error_of(path)
    assert message.startswith(f"config error: {path}:16: invalid removal_confirmations = 0 in ")


def test_start_url_with_a_bad_port_is_a_config_error(tmp_path):
    path = write(tmp_path, '[[sources]]\nname = "a"\nstart_urls = ["http://127.0.0.1:Error/x.htm"]\n')
    assert error_of(path) == (
        f"config error: {path}:3: invalid port in start URL 'http://127.0.0.1:Error/x.htm' "
        "(a port is a number from 1 to 65535)"
    )


# ---- every error of a file at once ----------------------------------------------------------

THREE_MISTAKES = """\
[crawl]
# a typo
delai = 2

[service]
run_timeout = "soon"

[[sources]]
name = "govcn-difang"
schedule = "every 1h"
"""


def three_mistakes_lines(path: Path) -> list[str]:
    return [
        f'config error: {path}:3: unknown key "delai" in [crawl] (did you mean "delay"?)',
        f"config error: {path}:6: invalid duration 'soon' "
        '(write a number with a unit: "20s", "30m", "6h", "1d")',
        f'config error: {path}:8: missing key "start_urls" in [[sources]] #1 '
        "(section list pages (http/https))",
    ]


def test_every_mistake_of_a_file_is_reported_in_line_order(tmp_path):
    path = write(tmp_path, THREE_MISTAKES)
    with pytest.raises(ConfigError) as info:
        load_settings(path, env={})
    error = info.value
    assert str(error).splitlines() == three_mistakes_lines(path)
    assert [problem.line for problem in error.problems] == [3, 6, 8]
    # The single-error attributes still describe the first problem.
    assert (error.where, error.line) == (str(path), 3)
    assert error.what == 'unknown key "delai" in [crawl]'
    assert error.problems[0] == ConfigProblem(error.where, error.what, error.hint, 3)


def test_environment_problems_follow_the_files(tmp_path):
    path = write(tmp_path, THREE_MISTAKES)
    env = {"GOVARCHIVE_SOURCES__0__NAME__X": "2", "GOVARCHIVE_CRAWL__RETRIES": "-1"}
    lines = error_of(path, env=env).splitlines()
    assert lines[:3] == three_mistakes_lines(path)
    # Then the variables by name, whether they name no setting or set a bad value.
    assert lines[3].startswith(
        "config error: $GOVARCHIVE_CRAWL__RETRIES: invalid retries = -1 in [crawl]"
    )
    assert lines[4].startswith(
        'config error: $GOVARCHIVE_SOURCES__0__NAME__X: "sources.0.name.x" does not name'
    )
    assert len(lines) == 5


def test_a_table_made_by_a_variable_is_blamed_on_it(tmp_path):
    path = write(tmp_path, "[crawl]\ndelay = 1\n")
    assert error_of(path, env={"GOVARCHIVE_PROXY__PORT": "1"}) == (
        'config error: $GOVARCHIVE_PROXY__PORT: unknown key "proxy" at the top level '
        "(known keys: storage, archive, crawl, sources, service, web, watches)"
    )


def test_program_keys_are_reported_with_the_other_mistakes(tmp_path):
    path = write(tmp_path, '[crawl]\ndelai = 2\n', name="a.toml")
    path.write_text('base_dir = "/"\n' + path.read_text(encoding="utf-8"), encoding="utf-8")
    assert error_of(path).splitlines() == [
        f'config error: {path}:1: unknown key "base_dir" at the top level '
        "(it is set by the program)",
        f'config error: {path}:3: unknown key "delai" in [crawl] (did you mean "delay"?)',
    ]


def test_web_base_url_is_an_http_url_without_a_trailing_slash(tmp_path):
    path = tmp_path / "govarchive.toml"
    path.write_text('[web]\nbase_url = "https://archive.example.org/"\n', encoding="utf-8")
    assert load_settings(path, env={}).web.base_url == "https://archive.example.org"
    path.write_text('[web]\nbase_url = "archive.example.org"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"govarchive.toml:2: invalid base_url .*http:// or https://"):
        load_settings(path, env={})
