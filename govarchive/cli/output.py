"""How the command line shows things: errors, tables, records, and files written whole."""

from __future__ import annotations

import os
import sys
import tempfile
import unicodedata
from datetime import UTC, date, datetime
from pathlib import Path

import click


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


def format_record(record: dict) -> str:
    """Fields one a line, lists indented below their name, the body text last."""
    lines = []
    for key, value in record.items():
        if key in ("body_text", "body_html"):
            continue
        if isinstance(value, list):
            lines.append(f"{key}: {len(value)}" if value else f"{key}: -")
            for item in value:
                if isinstance(item, dict):
                    item = " ".join(str(v) for v in item.values())
                lines.append(f"  {item}")
        else:
            lines.append(f"{key}: {'-' if value is None else value}")
    lines.append("")
    lines.append(record.get("body_text") or "(no body text)")
    return "\n".join(lines)


class DateParam(click.ParamType):
    """YYYY-MM-DD or an ISO 8601 time; without an offset it is read as UTC."""

    name = "DATE"

    def convert(self, value, param, ctx):
        if isinstance(value, datetime):
            return value
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            self.fail(
                f"{value!r} is not a date: write YYYY-MM-DD or YYYY-MM-DDThh:mm[+08:00]", param, ctx
            )
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return parsed


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


def write_atomically(path: Path, lines) -> int:
    """Write ``lines`` to a temporary file beside ``path`` and rename it into place, so a
    reader never sees half an export and a failed export leaves the old file untouched."""
    folder = path.resolve().parent
    try:
        fd, temp_name = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise Failure(f"error: cannot write in {folder}: {exc.strerror}", 1) from None
    temp, count = Path(temp_name), 0
    try:
        with open(fd, "w", encoding="utf-8") as handle:
            for line in lines:
                handle.write(line)
                count += 1
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return count


def json_value(value):
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def cell(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    return str(value)


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
