"""What a test site answers: a ``Response`` per request target, from a folder and its manifest.

A site is any object with ``name``, ``expected`` (the manifest dict) and
``respond(target) -> Response``; ``FolderSite`` serves the fixture folders under ``sites/``,
``tests.site.bulk.BulkSite`` generates a large section on request.

Manifest routes (``expected.json`` → ``"routes"``), keyed by path or by path with query:
``status``, ``headers`` (list of [name, value], repeats allowed), ``content_type``, ``gzip``
(compress when the request accepts it), ``delay`` (seconds before answering), ``redirect``
(a path; the server makes it absolute) and ``file`` (serve this file, relative to the folder).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from urllib.parse import unquote, urlsplit

SITES_DIR = Path(__file__).resolve().parent / "sites"
SITE_NAMES = ("govcn", "ministry", "big5", "quirks")

CONTENT_TYPES = {
    ".pdf": "application/pdf",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".doc": "application/msword", ".xls": "application/vnd.ms-excel",
    ".png": "image/png", ".jpg": "image/jpeg", ".gif": "image/gif",
    ".txt": "text/plain", ".css": "text/css", ".js": "application/javascript",
    ".json": "application/json",
}
REASONS = {404: "Not Found", 405: "Method Not Allowed", 412: "Precondition Failed",
           500: "Internal Server Error",
           521: "Web Server Is Down"}


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    content_type: str | None = None
    headers: list[tuple[str, str]] = field(default_factory=list)
    gzip: bool = False          # compress when the request accepts gzip
    delay: float = 0.0          # seconds to wait before answering (a slow page)
    redirect: str | None = None  # Location: a path (made absolute by the server) or a URL
    # Writes the whole answer itself on the server's request handler (``wfile``,
    # ``connection``): for answers no well-behaved server sends (drips, resets, bad headers).
    write: Callable[[object], None] | None = None


def html_content_type(charset: str | None) -> str:
    return f"text/html; charset={charset}" if charset else "text/html"


def content_type_for(path: str, charset: str | None) -> str:
    suffix = Path(path).suffix.lower()
    if suffix in (".htm", ".html", ".shtml", ".jsp", ".asp", ".aspx", ".php", ""):
        return html_content_type(charset)
    if suffix == ".txt":
        return "text/plain" + (f"; charset={charset}" if charset else "")
    return CONTENT_TYPES.get(suffix, "application/octet-stream")


def error_page(status: int, charset: str | None = "utf-8") -> Response:
    """The plain error page a web server shows; bodies are UTF-8 whatever the site's charset."""
    reason = REASONS.get(status, "Error")
    body = (f"<html><head><title>{status} {escape(reason)}</title></head><body>"
            f"<center><h1>{status} {escape(reason)}</h1></center><hr><center>nginx</center>"
            "</body></html>\n").encode()
    return Response(status=status, body=body, content_type=html_content_type("utf-8"))


def split_target(target: str) -> tuple[str, str]:
    """A request target "/a/b.htm?x=1" -> (unquoted path, query)."""
    parts = urlsplit(target)
    return unquote(parts.path) or "/", parts.query


class FolderSite:
    """Files under a folder, the folder's ``expected.json`` manifest and its routes."""

    def __init__(self, root: Path | str):
        self.root = Path(root).resolve()
        manifest = self.root / "expected.json"
        self.expected: dict = (json.loads(manifest.read_text(encoding="utf-8"))
                               if manifest.is_file() else {})
        self.name: str = self.expected.get("site", self.root.name)
        self.charset: str | None = self.expected.get("charset")
        self.routes: dict[str, dict] = self.expected.get("routes", {})

    def __repr__(self) -> str:
        return f"FolderSite({self.name!r}, {str(self.root)!r})"

    def _file(self, relative: str) -> Path | None:
        candidate = (self.root / relative.lstrip("/")).resolve()
        if not candidate.is_relative_to(self.root) or not candidate.is_file():
            return None
        if candidate == self.root / "expected.json":
            return None  # the manifest is for tests, not part of the site
        return candidate

    def read(self, path: str) -> bytes:
        """The stored bytes of a page (after routes' "file" mapping); KeyError when absent."""
        route = self.routes.get(path) or self.routes.get(split_target(path)[0], {})
        found = self._file(route.get("file") or split_target(path)[0])
        if found is None:
            raise KeyError(path)
        return found.read_bytes()

    def respond(self, target: str) -> Response:
        path, query = split_target(target)
        route = self.routes.get(f"{path}?{query}" if query else path)
        if route is None and query:
            if any(key.startswith(f"{path}?") for key in self.routes):
                return error_page(404)  # a dynamic page asked for an id it does not have
            route = self.routes.get(path)  # a static server ignores the query
        route = route or {}
        if "redirect" in route:
            return Response(status=route.get("status", 301), redirect=route["redirect"],
                            headers=[tuple(h) for h in route.get("headers", [])])
        file = self._file(route.get("file") or path)
        status = route.get("status", 200 if file else 404)
        if file is None or status >= 400:
            response = error_page(status)
        else:
            content_type = route.get("content_type") or content_type_for(file.name, self.charset)
            response = Response(status=status, body=file.read_bytes(), content_type=content_type)
        response.headers += [tuple(h) for h in route.get("headers", [])]
        response.gzip = bool(route.get("gzip", False))
        response.delay = float(route.get("delay", 0.0))
        return response


def load_site(site) -> object:
    """A site object from a site, a fixture name ("govcn", ...) or a folder path."""
    if hasattr(site, "respond"):
        return site
    if isinstance(site, str) and site in SITE_NAMES:
        return FolderSite(SITES_DIR / site)
    folder = Path(site)
    if not folder.is_dir():
        raise ValueError(f"unknown site {site!r}: give one of {', '.join(SITE_NAMES)}, "
                         "'bulk' (through tests.site.bulk.BulkSite) or a folder path")
    return FolderSite(folder)
