"""The settings model: one frozen ``Settings`` built from defaults < file < environment < overrides.

Every error names the place to fix: ``config error: <file>:<line>: <what> (<hint>)``.
tomllib reports no positions for valid TOML, so ``_KeyLines`` scans the text for table headers
and keys to map a validation error's location back to a line.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from govarchive import __version__

ENV_PREFIX = "GOVARCHIVE_"
DEFAULT_CONFIG_NAME = "govarchive.toml"


class ConfigError(Exception):
    """A configuration problem; ``str()`` is the one line the command line prints."""

    def __init__(self, where: str, what: str, hint: str, line: int | None = None):
        self.where, self.what, self.hint, self.line = where, what, hint, line
        place = f"{where}:{line}" if line is not None else where
        super().__init__(f"config error: {place}: {what} ({hint})")


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
        from crawler.selectors import RuleError, compile_rule

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


class SourceSettings(_Section):
    name: str = Field(pattern=r"^[a-z0-9-]+$", description="[a-z0-9-]+, unique")
    title: str = Field(description="a human title (defaults to the name)")
    start_urls: tuple[str, ...] = Field(min_length=1, description="section list pages (http/https)")
    schedule: str | None = Field(
        None, description='cron (5 fields) or "every 30m"; none: crawl on demand'
    )
    timezone: str = Field("Asia/Shanghai", description="how naive dates on the pages are read")
    max_list_pages: int = Field(5, ge=1, description="pages of a section to walk each run")
    rules: RulesSettings = Field(default_factory=RulesSettings, description="optional selectors")
    tracking: TrackingSettings = Field(
        default_factory=TrackingSettings, description="revisits and removals"
    )

    @model_validator(mode="before")
    @classmethod
    def _default_title(cls, data):
        if isinstance(data, dict) and "title" not in data and isinstance(data.get("name"), str):
            data = {**data, "title": data["name"]}
        return data

    @field_validator("start_urls")
    @classmethod
    def _http_urls(cls, urls: tuple[str, ...]):
        for url in urls:
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise _invalid(
                    f"invalid start URL {url!r}", "start URLs are absolute http:// or https:// URLs"
                )
        return urls

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
    standby_poll: Seconds = Field(
        5.0, gt=0, description="how often a standby scheduler tries to take over"
    )
    health_host: str = Field("127.0.0.1", description="address of /healthz and /metrics")
    health_port: int = Field(9180, ge=0, le=65535, description="port of /healthz and /metrics")
    webhook_url: str | None = Field(None, description="alerts are POSTed here as JSON")
    webhook_timeout: Seconds = Field(10.0, gt=0, description="seconds per webhook attempt")
    webhook_retries: int = Field(3, ge=0, description="retries of a failed webhook POST")
    empty_alert_after: int = Field(
        5, ge=0, description="alert after this many empty runs of a source in a row (0: never)"
    )
    log_dir: Path = Field(Path("data/logs"), description="one log file per run, by month")
    log_retention: Seconds = Field(
        90 * 86400.0, gt=0, description="run logs older than this are deleted"
    )


class Settings(_Section):
    storage: StorageSettings = Field(default_factory=StorageSettings)
    archive: ArchiveSettings = Field(default_factory=ArchiveSettings)
    crawl: CrawlSettings = Field(default_factory=CrawlSettings)
    sources: tuple[SourceSettings, ...] = ()
    service: ServiceSettings = Field(default_factory=ServiceSettings)
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


# ---- loading ----------------------------------------------------------------------------


def load_settings(
    path: str | os.PathLike | None = None,
    env: Mapping[str, str] = os.environ,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Settings from ``path`` (else $GOVARCHIVE_CONFIG, else ./govarchive.toml), then
    ``GOVARCHIVE_SECTION__KEY`` environment variables, then ``overrides`` ({"crawl.delay": 2})."""
    config = (
        Path(path or env.get(f"{ENV_PREFIX}CONFIG") or DEFAULT_CONFIG_NAME).expanduser().absolute()
    )
    label = str(path or env.get(f"{ENV_PREFIX}CONFIG") or DEFAULT_CONFIG_NAME)
    try:
        raw = config.read_bytes()
    except FileNotFoundError:
        raise ConfigError(
            label,
            "file not found",
            "pass --config PATH, set $GOVARCHIVE_CONFIG, or create ./govarchive.toml",
        ) from None
    except OSError as exc:
        raise ConfigError(
            label, f"cannot read the file: {exc.strerror}", "check the path and permissions"
        ) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ConfigError(label, "the file is not UTF-8", "save it as UTF-8", line) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _syntax_error(label, text, exc) from None

    lines = _KeyLines(text)
    for key in ("config_path", "base_dir"):
        if key in data:
            raise ConfigError(
                label,
                f'unknown key "{key}" at the top level',
                "it is set by the program",
                lines.find((key,)),
            )
    blame: dict[tuple, str] = {}
    for var in sorted(env):
        if var.startswith(ENV_PREFIX) and "__" in var:
            keys = tuple(var[len(ENV_PREFIX) :].lower().split("__"))
            _set_path(data, keys, _toml_scalar(env[var]), f"${var}", blame)
    for dotted, value in (overrides or {}).items():
        _set_path(data, tuple(dotted.split(".")), value, f"override {dotted}", blame)

    data["config_path"], data["base_dir"] = config, config.parent
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        raise _first_error(exc, label, lines, blame) from None


def _syntax_error(label: str, text: str, exc: tomllib.TOMLDecodeError) -> ConfigError:
    message = str(exc)
    match = re.search(r"\s*\(at line (\d+), column (\d+)\)$", message)
    if match:
        return ConfigError(
            label,
            message[: match.start()],
            f"TOML syntax, column {match.group(2)}",
            int(match.group(1)),
        )
    message = re.sub(r"\s*\(at end of document\)$", "", message)
    return ConfigError(label, message, "TOML syntax, at the end of the file", text.count("\n") + 1)


def _toml_scalar(value: str) -> Any:
    """An environment value as TOML reads it ("2.5" -> 2.5, "true" -> True), else the string."""
    try:
        parsed = tomllib.loads(f"v = {value}")
    except tomllib.TOMLDecodeError:
        return value
    return parsed["v"] if parsed.keys() == {"v"} else value


def _set_path(data: dict, keys: tuple[str, ...], value: Any, who: str, blame: dict) -> None:
    node: Any = data
    resolved: tuple = ()
    for key in keys[:-1]:
        if isinstance(node, list) and key.isdigit() and int(key) < len(node):
            resolved += (int(key),)
            node = node[int(key)]
        elif isinstance(node, dict):
            resolved += (key,)
            node = node.setdefault(key, {})
        else:
            break
        if not isinstance(node, (dict, list)):
            break
    else:
        if isinstance(node, dict):
            node[keys[-1]] = value
            blame[resolved + (keys[-1],)] = who
            return
    raise ConfigError(
        who,
        f'"{".".join(keys)}" does not name a setting',
        "nest with __ as in GOVARCHIVE_CRAWL__DELAY; sources by index: SOURCES__0__SCHEDULE",
    )


def _model_at(loc: tuple) -> type[BaseModel] | None:
    model: Any = Settings
    for part in loc:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part) if model else None
        if field is None:
            return None
        annotation = field.annotation
        if getattr(annotation, "__origin__", None) is tuple:
            annotation = annotation.__args__[0]
        model = (
            annotation
            if isinstance(annotation, type) and issubclass(annotation, BaseModel)
            else None
        )
    return model


def _in_table(loc: tuple) -> str:
    names = [p for p in loc if isinstance(p, str)]
    if not names:
        return "at the top level"
    numbers = [p for p in loc if isinstance(p, int)]
    suffix = f" (source #{numbers[0] + 1})" if numbers and len(names) > 1 else ""
    if isinstance(loc[-1], int) and len(names) == 1:
        return f"in [[{names[0]}]] #{loc[-1] + 1}"
    return f"in [{'.'.join(names)}]{suffix}"


def _describe(error: dict) -> tuple[tuple, str, str]:
    """(location, what, hint) of one pydantic error."""
    loc = tuple(error["loc"])
    kind, ctx = error["type"], error.get("ctx") or {}
    if kind == "config":
        if "index" in ctx:
            loc = loc + (ctx["index"], "name")
        return loc, ctx["what"], ctx["hint"]
    core = loc
    while core and isinstance(core[-1], int):  # an item of a list: name the list
        core = core[:-1]
    key, table = core[-1] if core else "", core[:-1]
    model = _model_at(table)
    known = list(model.model_fields) if model else []
    if model is Settings:
        known = [k for k in known if k not in ("config_path", "base_dir")]
    if kind == "extra_forbidden":
        close = difflib.get_close_matches(str(key), known, n=1)
        hint = f'did you mean "{close[0]}"?' if close else f"known keys: {', '.join(known)}"
        return loc, f'unknown key "{key}" {_in_table(table)}', hint
    field = model.model_fields.get(key) if model else None
    help_text = (field.description if field else None) or "see deploy/govarchive.toml"
    if kind == "missing":
        return loc, f'missing key "{key}" {_in_table(table)}', help_text
    if loc == ("sources",) and kind == "tuple_type":
        return loc, "sources must be a list of tables", "write each source as a [[sources]] table"
    message = error["msg"].replace("valid tuple", "list")
    return (
        loc,
        f"invalid {key} = {error.get('input')!r} {_in_table(table)}: {message}",
        help_text,
    )


def _first_error(exc: ValidationError, label: str, lines: _KeyLines, blame: dict) -> ConfigError:
    found = []
    for error in exc.errors():
        loc, what, hint = _describe(error)
        culprit = next((who for path, who in blame.items() if loc[: len(path)] == path), None)
        if culprit:
            found.append((float("inf"), ConfigError(culprit, what, hint)))
        else:
            line = lines.find(loc)
            found.append((line, ConfigError(label, what, hint, line)))
    return min(found, key=lambda pair: pair[0])[1]


class _KeyLines:
    """Line numbers of table headers and keys in valid TOML text, by path
    (``("sources", 1, "rules", "title")``: arrays of tables are indexed like the parsed data)."""

    def __init__(self, text: str):
        self.text, self.pos, self.line = text, 0, 1
        self.lines: dict[tuple, int] = {}
        self._arrays: dict[tuple, int] = {}
        try:
            self._scan()
        except (IndexError, ValueError):
            pass  # a best effort: find() falls back to shorter paths

    def find(self, loc: tuple) -> int:
        for end in range(len(loc), 0, -1):
            if loc[:end] in self.lines:
                return self.lines[loc[:end]]
        return 1

    def _scan(self) -> None:
        table: tuple = ()
        text = self.text
        while self.pos < len(text):
            char = text[self.pos]
            if char in " \t\r":
                self.pos += 1
            elif char == "\n":
                self._newline()
            elif char == "#":
                self._skip_comment()
            elif char == "[":
                table = self._header()
            else:
                keys = self._keys("=")
                self.pos += 1
                for end in range(1, len(keys) + 1):
                    self.lines.setdefault(table + keys[:end], self.line)
                self._skip_value()

    def _newline(self) -> None:
        self.pos += 1
        self.line += 1

    def _skip_comment(self) -> None:
        end = self.text.find("\n", self.pos)
        self.pos = len(self.text) if end < 0 else end

    def _header(self) -> tuple:
        array = self.text.startswith("[[", self.pos)
        self.pos += 2 if array else 1
        keys = self._keys("]")
        self.pos += 2 if array else 1
        resolved: tuple = ()
        for key in keys[:-1] if array else keys:
            resolved += (key,)
            if resolved in self._arrays:
                resolved += (self._arrays[resolved],)
        if array:
            resolved += (keys[-1],)
            self.lines.setdefault(resolved, self.line)
            self._arrays[resolved] = self._arrays.get(resolved, -1) + 1
            resolved += (self._arrays[resolved],)
        self.lines[resolved] = self.line
        return resolved

    def _keys(self, stop: str) -> tuple[str, ...]:
        keys, text = [], self.text
        while True:
            while text[self.pos] in " \t":
                self.pos += 1
            if text[self.pos] in "\"'":
                start = self.pos
                self._skip_string()
                keys.append(tomllib.loads(f"k = {text[start : self.pos]}")["k"])
            else:
                match = re.compile(r"[A-Za-z0-9_-]+").match(text, self.pos)
                if not match:
                    raise ValueError(f"no key at {self.pos}")
                keys.append(match.group())
                self.pos = match.end()
            while text[self.pos] in " \t":
                self.pos += 1
            if text[self.pos] == stop:
                return tuple(keys)
            self.pos += 1  # the dot between dotted keys

    def _skip_string(self) -> None:
        text, quote = self.text, self.text[self.pos]
        triple = text.startswith(quote * 3, self.pos)
        self.pos += 3 if triple else 1
        while True:
            if text[self.pos] == "\\" and quote == '"':
                if text[self.pos + 1] == "\n":
                    self.line += 1
                self.pos += 2
                continue
            if text.startswith(quote * 3 if triple else quote, self.pos):
                self.pos += 3 if triple else 1
                while triple and self.pos < len(text) and text[self.pos] == quote:
                    self.pos += 1  # up to two quotes may close a multi-line string's content
                return
            if text[self.pos] == "\n":
                self.line += 1
            self.pos += 1

    def _skip_value(self) -> None:
        depth, text = 0, self.text
        while self.pos < len(text):
            char = text[self.pos]
            if char in "\"'":
                self._skip_string()
                continue
            if char == "\n":
                if depth == 0:
                    return
                self.line += 1
            elif char == "#":
                self._skip_comment()
                continue
            elif char in "[{":
                depth += 1
            elif char in "]}":
                depth -= 1
            self.pos += 1
