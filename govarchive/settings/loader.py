"""Loading govarchive.toml into ``Settings``, with errors that point at a line.

tomllib reports no positions for valid TOML, so ``_KeyLines`` scans the text for table headers
and keys to map a validation error's location back to a line.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from govarchive.settings.model import (
    DEFAULT_CONFIG_NAME,
    ENV_PREFIX,
    ConfigError,
    ConfigProblem,
    Settings,
)


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

    # Every mistake is collected, so one edit of the file can fix them all.
    lines = _KeyLines(text)
    problems = [
        ConfigProblem(
            label, f'unknown key "{key}" at the top level', "it is set by the program",
            lines.find((key,)),
        )
        for key in ("config_path", "base_dir")
        if key in data
    ]
    blame: dict[tuple, str] = {}
    for var in sorted(env):
        if var.startswith(ENV_PREFIX) and "__" in var:
            keys = tuple(var[len(ENV_PREFIX) :].lower().split("__"))
            problems += _set_path(data, keys, _toml_scalar(env[var]), f"${var}", blame)
    for dotted, value in (overrides or {}).items():
        problems += _set_path(data, tuple(dotted.split(".")), value, f"override {dotted}", blame)

    data["config_path"], data["base_dir"] = config, config.parent
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        problems += _validation_problems(exc, label, lines, blame)
    if problems:
        # The file's problems by line, then the variables' and the overrides' by name.
        ordered = sorted(
            dict.fromkeys(problems), key=lambda p: (p.where != label, p.line or 0, p.where)
        )
        raise ConfigError.of(ordered) from None
    return settings


# Package data beside this module (pyproject's package-data), so pip users have it too.
_EXAMPLE_CONFIG = "example-config.toml"


def example_config() -> bytes:
    """The commented starter config, shipped in the package for ``govarchive init
    --example-config`` (deploy/govarchive.toml holds the same bytes, for the repository)."""
    return resources.files(__package__).joinpath(_EXAMPLE_CONFIG).read_bytes()


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


def _set_path(
    data: dict, keys: tuple[str, ...], value: Any, who: str, blame: dict
) -> list[ConfigProblem]:
    """Set ``value`` at ``keys`` in ``data``; a problem when the keys name no setting."""
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
            return []
    return [
        ConfigProblem(
            who,
            f'"{".".join(keys)}" does not name a setting',
            "nest with __ as in GOVARCHIVE_CRAWL__DELAY; sources by index: SOURCES__0__SCHEDULE",
        )
    ]


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
    item = {"sources": "source", "watches": "watch"}.get(names[0], names[0])
    suffix = f" ({item} #{numbers[0] + 1})" if numbers and len(names) > 1 else ""
    if isinstance(loc[-1], int) and len(names) == 1:
        return f"in [[{names[0]}]] #{loc[-1] + 1}"
    return f"in [{'.'.join(names)}]{suffix}"


def _describe(error: dict) -> tuple[tuple, str, str]:
    """(location, what, hint) of one pydantic error."""
    loc = tuple(error["loc"])
    kind, ctx = error["type"], error.get("ctx") or {}
    if kind == "config":
        if "index" in ctx:
            loc = loc + (ctx["index"], ctx.get("key", "name"))
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
    help_text = (field.description if field else None) or "see `govarchive init --example-config`"
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


def _validation_problems(
    exc: ValidationError, label: str, lines: _KeyLines, blame: dict
) -> list[ConfigProblem]:
    """Each pydantic error as a problem of the file's line, or of the variable that set it."""
    found = []
    for error in exc.errors():
        loc, what, hint = _describe(error)
        culprit = next((who for path, who in blame.items() if loc[: len(path)] == path), None)
        if culprit is None and loc not in lines:
            # A table the file does not have, made by a variable (GOVARCHIVE_PROXY__PORT).
            culprit = next((who for path, who in blame.items() if path[: len(loc)] == loc), None)
        if culprit:
            found.append(ConfigProblem(culprit, what, hint))
        else:
            found.append(ConfigProblem(label, what, hint, lines.find(loc)))
    return found


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

    def __contains__(self, loc: tuple) -> bool:
        return loc in self.lines

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
