"""Replaying captures: the nearest capture of a URL as text, and pywb's ``wayback`` command.

Replay in the browser is pywb's job: ``wayback`` serves ``<root>/collections/<name>`` from
its ``archive/`` and ``indexes/`` folders, in framed replay (pywb's default), so archived pages
run inside an iframe and their scripts cannot reach the replay UI around them.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from govarchive.warc.index import IndexEntry, lookup, nearest
from govarchive.warc.reader import ArchivedRecord, read_record
from govarchive.warc.writer import RecordLocation


class NotArchivedError(LookupError):
    pass


@dataclass
class Replayed:
    entry: IndexEntry
    record: ArchivedRecord

    @property
    def content_type(self) -> str | None:
        if self.record.http_headers is None:
            return None
        return self.record.http_headers.get_header("Content-Type")

    def head(self) -> str:
        """The HTTP status line and headers as archived."""
        http = self.record.http_headers
        if http is None:
            return ""
        lines = [http.protocol + " " + http.statusline if http.protocol else http.statusline]
        lines += [f"{name}: {value}" for name, value in http.headers]
        return "\r\n".join(lines) + "\r\n\r\n"

    def text(self, decode_html: Callable[[bytes, str | None], tuple[str, str]]) -> str:
        """The body decoded to text in its real charset. HTML is decoded by ``decode_html``
        (the crawler's decoder, so replay reads a page as the extractor did):
        ``(body, content_type) -> (text, codec)``."""
        body = self.record.content()
        mime = (self.content_type or "").split(";")[0].strip().lower()
        if not mime or "html" in mime or "xml" in mime:
            text, _codec = decode_html(body, self.content_type)
            return text
        charset = _charset(self.content_type)
        return body.decode(charset or "utf-8", errors="replace")


def _charset(content_type: str | None) -> str | None:
    for part in (content_type or "").split(";")[1:]:
        key, _, value = part.partition("=")
        if key.strip().lower() == "charset" and value.strip():
            return value.strip().strip("\"'")
    return None


def find_capture(archive_dir: Path, url: str, at: str | None = None) -> Replayed:
    """The capture of ``url`` nearest in time to ``at`` (YYYYMMDDhhmmss, or a prefix of it)."""
    entries = [e for e in lookup(archive_dir, url) if e.mime != "warc/revisit"]
    entry = nearest(entries, at)
    if entry is None:
        raise NotArchivedError(
            f"{url} is not in the index of {archive_dir.parent}; "
            "run `govarchive warc index` if files were added by hand"
        )
    record = read_record(archive_dir, RecordLocation(entry.file, entry.offset, entry.length))
    return Replayed(entry, record)


# pywb reads ``config.yaml`` from the folder it serves; without one it prints the missing
# file's error and turns on its debug mode. Ours states the defaults we rely on.
WAYBACK_CONFIG = """\
# pywb's settings for `govarchive replay serve`, written by govarchive when missing.
# Yours to edit: https://pywb.readthedocs.io/en/latest/manual/configuring.html
# Each folder of collections/ is a collection (archive/ holds its WARC files, indexes/ its
# CDXJ indexes); archived pages replay inside a frame, away from pywb's own page.
collections_root: collections
framed_replay: true
debug: false
"""


def wayback_config(root: Path) -> Path:
    """``<root>/config.yaml`` for pywb, written with our settings unless one is there."""
    config = root / "config.yaml"
    if not config.exists():
        root.mkdir(parents=True, exist_ok=True)
        config.write_text(WAYBACK_CONFIG, encoding="utf-8")
    return config


def wayback_command(root: Path, host: str, port: int) -> list[str]:
    """The command line that serves every collection under ``root`` with pywb.

    ``wayback --directory`` changes into ``root`` before it reads ``./config.yaml``, so the
    config it reads is :func:`wayback_config`'s, never one in the caller's working folder.
    """
    script = Path(sys.executable).with_name("wayback")
    program = str(script) if script.exists() else shutil.which("wayback")
    if program is None:
        raise FileNotFoundError("pywb's `wayback` command is not installed (pip install pywb)")
    wayback_config(root)
    return [program, "--bind", host, "--port", str(port), "--directory", str(root)]
