"""The HTTP side of WARC records, as bytes: what warcio is handed to write.

warcio builds the WARC records (headers, digests, gzip members); these functions decide what
the archived HTTP start line and headers are, byte for byte, and take their inputs explicitly
(ids, dates) so tests can compare records exactly.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from urllib.parse import urlsplit

CONFORMS_TO = "http://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/"
FORMAT = "WARC File Format 1.1"

CRLF = b"\r\n"

# Request headers that must never reach an archive (credentials for our own proxy).
_SECRET_REQUEST_HEADERS = frozenset({"proxy-authorization"})
_DEFAULT_PORTS = {"http": 80, "https": 443}


def warc_date(when: datetime) -> str:
    """WARC-Date with microseconds (WARC/1.1 allows fractions of a second), always UTC."""
    return as_utc(when).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def as_utc(when: datetime) -> datetime:
    """A naive datetime is taken to be UTC already."""
    if when.tzinfo is None:
        return when.replace(tzinfo=UTC)
    return when.astimezone(UTC)


def _clean(text: str) -> str:
    # A CR or LF inside a header value would end the header early and let the rest of the
    # value pose as headers of its own; fold them into spaces.
    if "\r" in text or "\n" in text:
        return text.replace("\r", " ").replace("\n", " ")
    return text


def _header_bytes(text: str) -> bytes:
    # HTTP header bytes travel as latin-1 strings (that is how the crawler decodes them), so
    # latin-1 gives the original bytes back; anything outside latin-1 can only be UTF-8.
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        return text.encode("utf-8")


def http_header_block(start_line: str, headers: Iterable[tuple[str, str]]) -> bytes:
    """Start line, ``Name: value`` lines in the order given (repeats kept), blank line."""
    lines = [_header_bytes(_clean(start_line))]
    lines.extend(_header_bytes(f"{_clean(name)}: {_clean(value)}") for name, value in headers)
    lines.append(b"")
    lines.append(b"")
    return CRLF.join(lines)


def response_headers_for_archive(headers: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """The response headers as they go into the archive.

    The body we are given has already been de-chunked by the HTTP client. Keeping
    ``Transfer-Encoding: chunked`` next to a de-chunked body would make readers that honour
    it (pywb, warcio's ``content_stream()``) de-chunk it a second time, mangling any body that
    happens to look like chunk framing, so the header is kept under the name
    ``X-Archive-Orig-Transfer-Encoding`` (the convention pywb and warcprox use for headers that
    no longer describe the stored bytes). No Content-Length is invented: the record's own
    length delimits the payload.
    """
    out = []
    for name, value in headers:
        if name.lower() == "transfer-encoding":
            out.append(("X-Archive-Orig-Transfer-Encoding", value))
        else:
            out.append((name, value))
    return out


def request_line_and_headers(
    url: str, method: str, protocol: str, headers: Iterable[tuple[str, str]]
) -> tuple[str, list[tuple[str, str]]]:
    """``GET /path?query HTTP/1.1`` and the headers with a Host header first (if missing)."""
    parts = urlsplit(url)
    target = parts.path or "/"
    if parts.query:
        target = f"{target}?{parts.query}"
    kept = [(n, v) for n, v in headers if n.lower() not in _SECRET_REQUEST_HEADERS]
    if not any(n.lower() == "host" for n, _ in kept):
        host = parts.hostname or ""
        if ":" in host:  # IPv6 literal
            host = f"[{host}]"
        if parts.port is not None and parts.port != _DEFAULT_PORTS.get(parts.scheme):
            host = f"{host}:{parts.port}"
        kept.insert(0, ("Host", host))
    return f"{method.upper()} {target} {protocol}", kept
