"""How the command line shows things: errors, tables, records, and files written whole."""

from __future__ import annotations

import os
import sys
import tempfile
import unicodedata
from datetime import date, datetime
from pathlib import Path

import click

from govarchive.times import local_text, parse_day_or_time


class Failure(click.ClickException):
    """An error printed exactly as given (no "Error:" prefix) with its own exit code."""

    def __init__(self, message: str, exit_code: int = 1):
        super().__init__(message)
        self.exit_code = exit_code

    def show(self, file=None) -> None:
        if self.message:
            click.echo(self.message, err=True)


def safe_url(url: str) -> str:
    """A database URL fit to print: the password hidden."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(unparsable URL)"


TIME_KEYS = frozenset({"at", "captured_at", "fetched_at", "first_seen", "last_seen",
                       "last_changed", "started_at", "finished_at"})


def readable(value, key: str = "") -> str:
    """A field's value as a person reads it: times in local time to the second, lists as
    ``a, b``, a WARC pointer as ``FILE @OFFSET (LENGTH bytes)``, never a Python repr."""
    if value is None or value == "" or value == []:
        return "-"
    if key in TIME_KEYS and isinstance(value, (str, datetime)):
        return local_text(value)
    if isinstance(value, datetime):
        return local_text(value)
    if isinstance(value, dict):
        if {"file", "offset", "length"} <= value.keys():
            return f"{value['file']} @{value['offset']} ({value['length']} bytes)"
        return " · ".join(f"{k}: {readable(v, k)}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return ", ".join(readable(v) for v in value)
    return str(value)


def _published(record: dict) -> str:
    value = record.get("published_at")
    if not value:
        return "-"
    if record.get("published_precision") == "day":
        return value[:10]
    return local_text(value)


def format_record(record: dict) -> str:
    """Fields one a line, lists of records indented below their name, the body text last."""
    lines = []
    for key, value in record.items():
        if key in ("body_text", "body_html", "published_precision"):
            continue
        if key == "published_at":
            lines.append(f"{key}: {_published(record)}")
        elif isinstance(value, list) and any(isinstance(item, dict) for item in value):
            lines.append(f"{key}: {len(value)}")
            lines.extend(f"  {readable(item)}" for item in value)
        else:
            lines.append(f"{key}: {readable(value, key)}")
    lines.append("")
    lines.append(record.get("body_text") or "(no body text)")
    return "\n".join(lines)


class WhenParam(click.ParamType):
    """A day (YYYY-MM-DD) or an ISO 8601 time, kept as written; the command reads it in the
    source's timezone (``govarchive.times.in_zone``), so every option reads dates alike."""

    name = "DATE"

    def convert(self, value, param, ctx):
        if isinstance(value, (date, datetime)):
            return value
        try:
            return parse_day_or_time(value)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


def write_stdout(lines) -> None:
    """Write ``lines`` to stdout as UTF-8, whatever the locale says."""
    out = sys.stdout.buffer
    try:
        for line in lines:
            out.write(line.encode("utf-8"))
        out.flush()
    except BrokenPipeError:
        # The reader stopped early (`| head`): point stdout at devnull so the interpreter's
        # final flush does not fail again, and stop quietly (as the Python docs advise).
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise Failure("", 1) from None


def write_file_atomically(path: Path, write) -> int:
    """``write(temporary path)`` beside ``path``, fsync, then rename it into place, so a reader
    never sees half an export and a failed export leaves the old file untouched. Returns what
    ``write`` returns."""
    folder = path.resolve().parent
    try:
        fd, temp_name = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise Failure(f"error: cannot write in {folder}: {exc.strerror}", 1) from None
    os.close(fd)
    temp = Path(temp_name)
    try:
        result = write(temp)
        with open(temp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return result


def write_atomically(path: Path, lines) -> int:
    """Write text ``lines`` to ``path`` atomically (see :func:`write_file_atomically`);
    returns the number of lines."""

    def write(temp: Path) -> int:
        count = 0
        with open(temp, "w", encoding="utf-8") as handle:
            for line in lines:
                handle.write(line)
                count += 1
        return count

    return write_file_atomically(path, write)


def json_value(value):
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def cell(value, key: str = "") -> str:
    """A table cell: like :func:`readable`, with lists packed tighter."""
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    return readable(value, key)


def display_width(text: str) -> int:
    """Terminal columns: CJK characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def format_table(rows: list[tuple[str, ...]]) -> str:
    rows = [tuple(" ".join(cell.split()) for cell in row) for row in rows]
    widths = [max(display_width(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for row in rows:
        cells = [cell + " " * (widths[i] - display_width(cell)) for i, cell in enumerate(row)]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)
