"""The settings model: the sections of ``govarchive.toml``, their defaults and validation.

Every error names the place to fix: ``config error: <file>:<line>: <what> (<hint>)``; the
file is read by :mod:`govarchive.settings.loader`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from govarchive import __version__
from govarchive.times import DEFAULT_TIMEZONE

logger = logging.getLogger(__name__)

ENV_PREFIX = "GOVARCHIVE_"
DEFAULT_CONFIG_NAME = "govarchive.toml"


@dataclass(frozen=True)
class ConfigProblem:
    """One mistake: where (a file, ``$GOVARCHIVE_...`` or an override), what, how to fix it."""

    where: str
    what: str
    hint: str
    line: int | None = None

    def __str__(self) -> str:
        place = f"{self.where}:{self.line}" if self.line is not None else self.where
        return f"config error: {place}: {self.what} ({self.hint})"


class ConfigError(Exception):
    """One or more configuration problems; ``str()`` is what the command line prints, one line
    per problem. ``where``/``what``/``hint``/``line`` are the first problem's, ``problems`` all
    of them (the file's by line, then the environment's and the overrides')."""

    def __init__(
        self,
        where: str,
        what: str,
        hint: str,
        line: int | None = None,
        *,
        more: Sequence[ConfigProblem] = (),
    ):
        self.where, self.what, self.hint, self.line = where, what, hint, line
        self.problems: tuple[ConfigProblem, ...] = (ConfigProblem(where, what, hint, line), *more)
        super().__init__("\n".join(str(problem) for problem in self.problems))

    @classmethod
    def of(cls, problems: Sequence[ConfigProblem]) -> ConfigError:
        """The error reporting ``problems`` (at least one), in the order given."""
        first, *more = problems
        return cls(first.where, first.what, first.hint, first.line, more=more)


class UnknownSourceError(LookupError):
    """``Settings.source(name)`` was asked for a name the configuration does not define."""

    def __init__(self, name: str, known: list[str]):
        self.name, self.known = name, known
        listed = ", ".join(known) if known else "none are configured"
        super().__init__(f'unknown source "{name}" (known sources: {listed})')


def _invalid(what: str, hint: str) -> PydanticCustomError:
    # "config" errors carry their own wording; _describe() passes them through unchanged.
    return PydanticCustomError("config", "{what}", {"what": what, "hint": hint})


# ---- value parsers ----------------------------------------------------------------------

_SIZE_UNITS = {"": 1, "b": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}
_SIZE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*$", re.IGNORECASE)
_DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$", re.IGNORECASE)
_EVERY_RE = re.compile(r"^\s*every\s+(\d+\s*[smhd])\s*$", re.IGNORECASE)


def parse_size(value: Any) -> int:
    """Bytes from an int or a string like "1GB", "500MB", "20 MiB" (units are powers of 1024)."""
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    match = _SIZE_RE.match(value) if isinstance(value, str) else None
    if not match or float(match.group(1)) <= 0:
        raise _invalid(
            f"invalid size {value!r}", 'write a positive number of bytes or "500MB", "1GB"'
        )
    return int(float(match.group(1)) * _SIZE_UNITS[match.group(2).lower()])


def parse_duration(value: Any) -> timedelta:
    """A timedelta from seconds or a string like "20s", "30m", "6h", "1d", "2w"."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0:
        return timedelta(seconds=value)
    match = _DURATION_RE.match(value) if isinstance(value, str) else None
    if not match:
        raise _invalid(
            f"invalid duration {value!r}", 'write a number with a unit: "20s", "30m", "6h", "1d"'
        )
    return timedelta(seconds=float(match.group(1)) * _DURATION_UNITS[match.group(2).lower()])


def _seconds(value: Any) -> float:
    return parse_duration(value).total_seconds()


Size = Annotated[int, BeforeValidator(parse_size)]
Seconds = Annotated[float, BeforeValidator(_seconds)]


# ---- the models -------------------------------------------------------------------------


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


_DEFAULT_DB = "sqlite:///data/govarchive.db"


class StorageSettings(_Section):
    url: str = Field(
        _DEFAULT_DB,
        description="SQLAlchemy URL: sqlite:///relative/file.db or postgresql+psycopg://user@host/db",
    )

    @property
    def sqlite_path(self) -> Path | None:
        """The database file of a SQLite URL (None for other databases and in-memory SQLite)."""
        match = re.match(r"^sqlite(?:\+\w+)?:///([^?]+)", self.url)
        if not match or match.group(1) == ":memory:":
            return None
        return Path(match.group(1))


class ArchiveSettings(_Section):
    dir: Path = Field(
        Path("data/archive"), description="pywb-style root: collections/<name>/{archive,indexes}"
    )
    collection: str = Field(
        "govarchive", pattern=r"^[A-Za-z0-9_-]+$", description="collection name"
    )
    max_file_size: Size = Field(
        1 << 30, description='WARC file size before rolling over ("1GB", "500MB", bytes)'
    )

    @property
    def collection_path(self) -> Path:
        return self.dir / "collections" / self.collection

    @property
    def archive_path(self) -> Path:
        return self.collection_path / "archive"

    @property
    def indexes_path(self) -> Path:
        return self.collection_path / "indexes"


class CrawlSettings(_Section):
    user_agent: str = Field(
        f"govarchive/{__version__} (+https://github.com/govarchive/govarchive)",
        min_length=1,
        description="User-Agent header; name a way to contact you",
    )
    obey_robots: bool = Field(True, description="honour robots.txt")
    delay: float = Field(1.0, ge=0, description="seconds between requests to one host")
    concurrency_per_host: int = Field(2, ge=1, description="parallel requests to one host")
    allow_private_addresses: bool = Field(False, description="allow loopback/private targets")
    autothrottle: bool = Field(True, description="adapt the delay to the server's response times")
    concurrency: int = Field(16, ge=1, description="parallel requests in total")
    timeout: Seconds = Field(30.0, gt=0, description='download timeout (seconds or "30s")')
    max_attachment_size: Size = Field(
        20 << 20, description='largest attachment to archive ("20MB")'
    )
    attachments: bool = Field(True, description="fetch and archive linked attachments")
    requisites: Literal["body", "page", "none"] = Field(
        "body", description='what of an article page to archive with it: "body" (images in '
        'the article body and the page\'s stylesheets), "page" (also every other image, '
        'script and icon), "none"; capped by max_attachment_size'
    )
    retries: int = Field(2, ge=0, description="retries of a failed request")


_RULE_NAMES = ("article_links", "next_page", "title", "body", "published", "origin", "author")
EXTRACT_RULE_NAMES = ("title", "body", "published", "origin", "author")


class RulesSettings(_Section):
    article_links: str | None = Field(None, description="selector of article links on a list page")
    next_page: str | None = Field(None, description="selector of the next list page link")
    title: str | None = Field(None, description="selector of the article title")
    body: str | None = Field(None, description="selector of the article body")
    published: str | None = Field(None, description="selector of the publication date")
    origin: str | None = Field(None, description="selector of the origin (来源)")
    author: str | None = Field(None, description="selector of the author/editor")

    @field_validator(*_RULE_NAMES)
    @classmethod
    def _compiles(cls, rule: str | None, info):
        if rule is None:
            return None
        # Imported here: the crawler package pulls in Scrapy, which a settings import should not.
        from govarchive.crawler.selectors import RuleError, compile_rule

        try:
            compile_rule(rule)
        except RuleError as exc:
            raise _invalid(f"invalid rules.{info.field_name} selector {rule!r}", str(exc)) from None
        return rule

    def extract_rules(self) -> dict[str, str]:
        """The rules ``crawler.extract.extract_article`` takes (only those that are set)."""
        return {k: v for k in EXTRACT_RULE_NAMES if (v := getattr(self, k)) is not None}


class TrackingSettings(_Section):
    revisit: tuple[str, ...] = Field(
        ("3h:every-run", "1d:1h", "7d:6h", "30d:3d", "365d:30d"),
        description='"age:interval" steps; interval may be "every-run"',
    )
    removal_confirmations: int = Field(
        2, ge=1, description='"gone" fetches before an article is removed'
    )
    removal_min_interval: timedelta = Field(
        timedelta(hours=24), description="the gone fetches span at least this long"
    )
    max_revisits: int = Field(
        2000, ge=0, description="known articles fetched again per run, at most (the most "
        "overdue first; --revisit all is not capped)"
    )

    @field_validator("removal_min_interval", mode="before")
    @classmethod
    def _duration(cls, value):
        return parse_duration(value)

    @field_validator("revisit")
    @classmethod
    def _steps(cls, steps: tuple[str, ...]):
        previous = timedelta(-1)
        for step in steps:
            age = _revisit_step(step)[0]
            if age <= previous:
                raise _invalid(
                    f"revisit step {step!r} is out of order", "list ages from youngest to oldest"
                )
            previous = age
        return steps

    @property
    def revisit_steps(self) -> tuple[tuple[timedelta, timedelta | None], ...]:
        """(age, interval) pairs, youngest first; interval None means "every run"."""
        return tuple(_revisit_step(s) for s in self.revisit)


def _revisit_step(step: str) -> tuple[timedelta, timedelta | None]:
    age, sep, interval = step.partition(":")
    hint = 'write "age:interval", e.g. "1d:1h" or "3h:every-run"'
    if not sep:
        raise _invalid(f"invalid revisit step {step!r}", hint)
    try:
        return parse_duration(age), (
            None if interval.strip() == "every-run" else parse_duration(interval)
        )
    except PydanticCustomError:
        raise _invalid(f"invalid revisit step {step!r}", hint) from None


_JSON_PATH_RE = re.compile(r"^[^.\s{}]+(?:\.[^.\s{}]+)*$")
_PLACEHOLDER_RE = re.compile(r"\{([^{}]*)\}")


class ListApiSettings(_Section):
    """``[sources.list_api]``: walk a section through the JSON list API that feeds it."""

    url: str = Field(description='the API URL; "{page}" stands for the page number')
    method: str = Field("GET", description="GET or POST")
    body: str | None = Field(None, description='a POST body (JSON or form), may hold "{page}"')
    content_type: str | None = Field(
        None, description="the body's content type (default: JSON for a body starting with "
                          "{ or [, else form-urlencoded)")
    first_page: int = Field(1, ge=0, description="the number of the first page")
    items: str = Field(description='dotted path to the array of items, e.g. "data.list"')
    url_field: str | None = Field("url", description="dotted path of the article URL in an item")
    title_field: str | None = Field("title", description="dotted path of the title in an item")
    date_field: str | None = Field(None, description="dotted path of the date in an item")
    url_template: str | None = Field(
        None, description='the article URL made from item fields: "https://host/art/{id}.html"')

    @field_validator("method")
    @classmethod
    def _method(cls, method: str):
        if method.upper() not in ("GET", "POST"):
            raise _invalid(f"invalid list_api.method {method!r}", "use GET or POST")
        return method.upper()

    @field_validator("url")
    @classmethod
    def _api_url(cls, url: str):
        parts = urlsplit(url.replace("{page}", "1"))
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise _invalid(f"invalid list_api.url {url!r}",
                           'an absolute http:// or https:// URL, "{page}" for the page number')
        return url

    @field_validator("items", "url_field", "title_field", "date_field")
    @classmethod
    def _path(cls, path: str | None, info):
        if path is not None and not _JSON_PATH_RE.match(path):
            raise _invalid(f"invalid list_api.{info.field_name} path {path!r}",
                           'names joined by dots, e.g. "data.list" or "doc.url"')
        return path

    @field_validator("url_template")
    @classmethod
    def _template(cls, template: str | None):
        if template is None:
            return None
        fields = _PLACEHOLDER_RE.findall(template)
        bad = [f for f in fields if not _JSON_PATH_RE.match(f)]
        if not fields or bad:
            raise _invalid(f"invalid list_api.url_template {template!r}",
                           'item fields by dotted paths: "https://host/art/{id}.html"')
        filled = urlsplit(_PLACEHOLDER_RE.sub("x", template))
        if filled.scheme not in ("http", "https", "") or (filled.scheme and not filled.hostname):
            raise _invalid(f"invalid list_api.url_template {template!r}",
                           "an http(s) URL or a path on the API's site")
        return template

    @model_validator(mode="after")
    def _pages_differ(self):
        if "{page}" not in self.url and "{page}" not in (self.body or ""):
            raise _invalid("list_api has no {page} in its url or body",
                           'write "{page}" where the page number goes, e.g. "...?pageNo={page}"')
        if self.method == "GET" and self.body is not None:
            raise _invalid("list_api.body given for a GET", 'set method = "POST", or drop body')
        return self


class SourceSettings(_Section):
    name: str = Field(pattern=r"^[a-z0-9-]+$", description="[a-z0-9-]+, unique")
    title: str = Field(description="a human title (defaults to the name)")
    start_urls: tuple[str, ...] = Field(min_length=1, description="section list pages (http/https)")
    schedule: str | None = Field(
        None, description='cron (5 fields) or "every 30m"; none: crawl on demand'
    )
    timezone: str = Field(DEFAULT_TIMEZONE, description="how naive dates on the pages are read")
    max_list_pages: int = Field(5, ge=1, description="pages of a section to walk each run")
    walk: Literal["until-known", "all"] = Field(
        "until-known",
        description='"until-known": ask for the first list page with its last validators (a '
        "304 ends the walk) and stop after a list page of known articles only; \"all\": walk "
        "max_list_pages every run",
    )
    full_walk_every: timedelta = Field(
        timedelta(days=7), description="walk every list page at least this often (only full "
        "walks can tell that an article left its section)",
    )
    rules: RulesSettings = Field(default_factory=RulesSettings, description="optional selectors")
    list_api: ListApiSettings | None = Field(
        None, description="walk the section through its JSON list API instead of start_urls"
    )
    tracking: TrackingSettings = Field(
        default_factory=TrackingSettings, description="revisits and removals"
    )

    @model_validator(mode="before")
    @classmethod
    def _default_title(cls, data):
        if isinstance(data, dict) and "title" not in data and isinstance(data.get("name"), str):
            data = {**data, "title": data["name"]}
        return data

    @field_validator("full_walk_every", mode="before")
    @classmethod
    def _walk_interval(cls, value):
        interval = parse_duration(value)
        if interval <= timedelta(0):
            raise _invalid(f"invalid full_walk_every {value!r}", 'give a duration such as "7d"')
        return interval

    @field_validator("start_urls")
    @classmethod
    def _http_urls(cls, urls: tuple[str, ...]):
        for url in urls:
            parts = urlsplit(url)
            try:
                parts.port  # noqa: B018 - urlsplit checks the port only when asked for it
            except ValueError:
                raise _invalid(f"invalid port in start URL {url!r}",
                               "a port is a number from 1 to 65535") from None
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise _invalid(
                    f"invalid start URL {url!r}", "start URLs are absolute http:// or https:// URLs"
                )
        return urls

    @model_validator(mode="after")
    def _one_section_page(self):
        if self.list_api is not None and len(self.start_urls) != 1:
            raise _invalid("a source with list_api has one start URL",
                           "the section page the API feeds; make another source for another")
        return self

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, schedule: str | None):
        if schedule is None:
            return None
        if every := _EVERY_RE.match(schedule):
            if parse_duration(every.group(1).replace(" ", "")) <= timedelta(0):
                raise _invalid(f"invalid schedule {schedule!r}", "the interval must be above zero")
            return schedule
        from apscheduler.triggers.cron import CronTrigger

        try:
            CronTrigger.from_crontab(schedule, timezone="UTC")
        except ValueError as exc:
            raise _invalid(
                f"invalid schedule {schedule!r}: {exc}",
                'use 5 cron fields like "*/30 * * * *", or "every 30m" / "every 6h"',
            ) from None
        return schedule

    @field_validator("timezone")
    @classmethod
    def _zone(cls, zone: str):
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise _invalid(
                f"unknown timezone {zone!r}", 'use an IANA name such as "Asia/Shanghai"'
            ) from None
        return zone

    @property
    def schedule_interval(self) -> timedelta | None:
        """The interval of an "every ..." schedule (None for cron schedules and no schedule)."""
        match = _EVERY_RE.match(self.schedule or "")
        return parse_duration(match.group(1).replace(" ", "")) if match else None


class ServiceSettings(_Section):
    """``[service]``: how ``govarchive serve`` schedules, supervises and reports runs."""

    @model_validator(mode="before")
    @classmethod
    def _renamed_keys(cls, data):
        # empty_alert_after counted runs that found nothing new; quiet nights no longer
        # alert, and its number now counts runs whose list pages gave no links.
        if isinstance(data, dict) and "empty_alert_after" in data:
            if "no_links_alert_after" in data:
                raise _invalid("both empty_alert_after and no_links_alert_after are set",
                               "empty_alert_after is the old name: remove it")
            logger.warning("config: [service] empty_alert_after is deprecated: rename it to "
                           "no_links_alert_after (alerts after that many runs in a row whose "
                           "list pages gave no article links)")
            data = dict(data)
            data["no_links_alert_after"] = data.pop("empty_alert_after")
        return data

    misfire_grace_time: Seconds = Field(
        86400.0,
        gt=0,
        description="a run owed from longer ago than this is skipped (keep it >= the longest schedule)",
    )
    run_timeout: Seconds = Field(
        7200.0, gt=0, description="a run still going after this is stopped and recorded as timeout"
    )
    stop_grace: Seconds = Field(
        60.0, gt=0, description="time a stopped crawl gets to close its WARC files before SIGKILL"
    )
    max_concurrent_runs: int | None = Field(
        None,
        ge=1,
        description="runs at once; the rest wait in due order (default: 2 per core, at most one "
        "per 512 MB of memory, at least 1)",
    )
    workers: Literal["warm", "process", "procrastinate"] = Field(
        "warm",
        description='where runs execute: "warm" (long-lived crawl workers of serve, one per run '
        'slot, crawl run after run), "process" (a new `govarchive crawl` process per run) or '
        '"procrastinate" (serve queues them in PostgreSQL; `govarchive worker` processes on any '
        "machine run them)",
    )
    spread_schedules: bool = Field(
        False, description='"every N" schedules fire at a fixed per-source offset within their '
        "interval, so sources sharing one do not all fall due at once (cron lines fire as "
        "written)",
    )
    worker_max_runs: int = Field(
        1000, ge=1, description="a warm worker is replaced after this many runs"
    )
    worker_max_rss: Size = Field(
        512 << 20, gt=0,
        description="a warm worker is replaced after a run that leaves it this large (resident)",
    )
    standby_poll: Seconds = Field(
        5.0, gt=0, description="how often a standby scheduler tries to take over"
    )
    health_host: str = Field("127.0.0.1", description="address of /healthz and /metrics")
    health_port: int = Field(9180, ge=0, le=65535, description="port of /healthz and /metrics")
    webhook_url: str | None = Field(None, description="alerts are POSTed here as JSON")
    webhook_timeout: Seconds = Field(10.0, gt=0, description="seconds per webhook attempt")
    webhook_retries: int = Field(3, ge=0, description="retries of a failed webhook POST")
    no_links_alert_after: int = Field(
        2, ge=0, description="alert after this many runs of a source in a row whose list pages "
        "gave no article links (0: never; was empty_alert_after)",
    )
    log_dir: Path = Field(Path("data/logs"), description="one log file per run, by month")
    log_retention: Seconds = Field(
        90 * 86400.0, gt=0, description="run logs older than this are deleted"
    )
    stall_timeout: Seconds = Field(
        60.0, ge=3, description="a worker not heard from for this long is taken for dead: its "
        "runs are retried by another worker (procrastinate workers)"
    )


class WebSettings(_Section):
    """``[web]``: the query UI (``govarchive web``) as others reach it."""

    base_url: str = Field(
        "http://127.0.0.1:8000",
        description="the web UI's public address, for absolute links in feeds and messages",
    )

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, url: str):
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise _invalid(f"invalid base_url {url!r}", "an absolute http:// or https:// URL")
        return url.rstrip("/")


def _change_kinds() -> tuple[str, ...]:
    # Imported here: a settings import should not pull in SQLAlchemy unless watches are used.
    from govarchive.storage import CHANGE_KINDS

    return CHANGE_KINDS


def _default_watch_kinds() -> tuple[str, ...]:
    return tuple(kind for kind in _change_kinds() if kind != "new")


class WatchSettings(_Section):
    """``[[watches]]``: who hears about which change events, and how."""

    name: str = Field(pattern=r"^[a-z0-9-]+$", description="[a-z0-9-]+, unique")
    sources: tuple[str, ...] | None = Field(
        None, description="source names to watch (default: all)"
    )
    kinds: tuple[str, ...] = Field(
        default_factory=_default_watch_kinds,
        description='change kinds to hear about (default: all but "new")',
    )
    query: str | None = Field(None, description="only articles this search finds")
    notify: tuple[str, ...] = Field((), description="Apprise URLs (mailto://, dingtalk://, ...)")
    webhook: str | None = Field(None, description="POST the events as JSON to this URL")
    digest: timedelta | None = Field(
        None, description='one message per period ("15m") instead of one per event'
    )

    @field_validator("kinds")
    @classmethod
    def _known_kinds(cls, kinds: tuple[str, ...]):
        known = _change_kinds()
        for kind in kinds:
            if kind not in known:
                raise _invalid(f"unknown change kind {kind!r}", f"use some of {', '.join(known)}")
        if not kinds:
            raise _invalid("kinds is empty", "leave it out for every kind but new")
        return kinds

    @field_validator("query")
    @classmethod
    def _searchable(cls, query: str | None):
        if query is None:
            return None
        from govarchive.storage import SearchQueryError, validate_query

        try:
            validate_query(query)
        except SearchQueryError as exc:
            raise _invalid(f"invalid query: {exc}",
                           'write words or "phrases"; every one must occur') from None
        return query

    @field_validator("notify")
    @classmethod
    def _apprise_urls(cls, urls: tuple[str, ...]):
        for number, url in enumerate(urls, 1):
            # The URL itself is not repeated: it usually holds a password or token.
            problem = _apprise_problem(url)
            if problem:
                raise _invalid(f"notify URL #{number}: {problem}",
                               "see https://github.com/caronc/apprise/wiki for URL forms, "
                               "e.g. mailto://user:pass@host?to=desk@example.org")
        return urls

    @field_validator("webhook")
    @classmethod
    def _http_webhook(cls, url: str | None):
        if url is None:
            return None
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise _invalid("invalid webhook URL", "an absolute http:// or https:// URL")
        return url

    @field_validator("digest", mode="before")
    @classmethod
    def _period(cls, value):
        if value is None:
            return None
        period = parse_duration(value)
        if period <= timedelta(0):
            raise _invalid(f"invalid digest {value!r}", 'a period above zero, like "15m"')
        return period

    @model_validator(mode="after")
    def _has_a_channel(self):
        if not self.notify and self.webhook is None:
            raise _invalid(f'watch "{self.name}" has no channel',
                           "add notify = [Apprise URLs] or webhook = URL")
        return self


def _apprise_problem(url: str) -> str | None:
    """What is wrong with an Apprise URL, or None."""
    import apprise
    from apprise.manager_plugins import NotificationManager

    scheme, sep, _ = url.partition("://")
    if not sep:
        return "not a URL (scheme://...)"
    if scheme.lower() not in NotificationManager().schemas():
        return f"unknown notification scheme {scheme + '://'!r}"
    if apprise.Apprise.instantiate(url) is None:
        return f"Apprise cannot use this {scheme}:// URL (a missing or malformed part)"
    return None


class Settings(_Section):
    storage: StorageSettings = Field(default_factory=StorageSettings)
    archive: ArchiveSettings = Field(default_factory=ArchiveSettings)
    crawl: CrawlSettings = Field(default_factory=CrawlSettings)
    sources: tuple[SourceSettings, ...] = ()
    service: ServiceSettings = Field(default_factory=ServiceSettings)
    web: WebSettings = Field(default_factory=WebSettings)
    watches: tuple[WatchSettings, ...] = ()
    config_path: Path | None = None
    base_dir: Path = Path(".")

    @model_validator(mode="before")
    @classmethod
    def _resolve_paths(cls, data):
        # Relative paths mean "next to the config file", whoever starts the process and where.
        if not isinstance(data, dict):
            return data
        base = Path(data.get("base_dir") or ".")
        data = dict(data)
        storage, archive = data.get("storage", {}), data.get("archive", {})
        if isinstance(storage, dict) and isinstance(url := storage.get("url", _DEFAULT_DB), str):
            data["storage"] = {**storage, "url": _resolve_sqlite_url(url, base)}
        if isinstance(archive, dict) and isinstance(
            folder := archive.get("dir", "data/archive"), (str, Path)
        ):
            data["archive"] = {**archive, "dir": str(base / Path(folder).expanduser())}
        service = data.get("service", {})
        if isinstance(service, dict) and isinstance(
            logs := service.get("log_dir", "data/logs"), (str, Path)
        ):
            data["service"] = {**service, "log_dir": str(base / Path(logs).expanduser())}
        return data

    @field_validator("sources")
    @classmethod
    def _unique_names(cls, sources: tuple[SourceSettings, ...]):
        seen: dict[str, int] = {}
        for index, source in enumerate(sources):
            if source.name in seen:
                first = seen[source.name] + 1
                what = f'duplicate source name "{source.name}"'
                hint = f"source #{first} already uses it; names are unique"
                # "index" makes the error point at this source's name, not at [[sources]].
                ctx = {"what": what, "hint": hint, "index": index}
                raise PydanticCustomError("config", "{what}", ctx)
            seen[source.name] = index
        return sources

    @field_validator("watches")
    @classmethod
    def _watches_fit(cls, watches: tuple[WatchSettings, ...], info):
        seen: dict[str, int] = {}
        sources = [s.name for s in info.data.get("sources") or ()]
        for index, watch in enumerate(watches):
            if watch.name in seen:
                ctx = {"what": f'duplicate watch name "{watch.name}"',
                       "hint": f"watch #{seen[watch.name] + 1} already uses it; names are unique",
                       "index": index}
                raise PydanticCustomError("config", "{what}", ctx)
            seen[watch.name] = index
            for name in watch.sources or ():
                if name not in sources:
                    known = ", ".join(sources) or "none are configured"
                    ctx = {"what": f'watch "{watch.name}": unknown source "{name}"',
                           "hint": f"known sources: {known}", "index": index, "key": "sources"}
                    raise PydanticCustomError("config", "{what}", ctx)
        return watches

    def source(self, name: str) -> SourceSettings:
        for source in self.sources:
            if source.name == name:
                return source
        raise UnknownSourceError(name, [s.name for s in self.sources])


def _resolve_sqlite_url(url: str, base: Path) -> str:
    match = re.match(r"^(sqlite(?:\+\w+)?:///)([^?]*)(.*)$", url)
    if not match or match.group(2) in ("", ":memory:") or Path(match.group(2)).is_absolute():
        return url
    return f"{match.group(1)}{base / match.group(2)}{match.group(3)}"
