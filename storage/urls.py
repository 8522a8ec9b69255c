"""URL canonicalisation: the one spelling of a URL under which an article is stored.

Government CMSs publish the same page under several spellings: ``HTTP://WWW.GOV.CN:80/a/``
and ``http://www.gov.cn/a/index.htm``, links with ``#top`` or ``?utm_source=...``. Two
spellings that name the same page must find the same article, so every URL is reduced to a
canonical form before it is looked up or stored; the spelling actually fetched is kept in the
``url_aliases`` table (and in the capture, which is never rewritten).
"""

from __future__ import annotations

from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

DEFAULT_PORTS = {"http": 80, "https": 443}
# Directory index documents served for "dir/" (IIS, Apache and TRS/Hanweb defaults).
INDEX_DOCUMENTS = frozenset({"index.htm", "index.html", "index.shtml", "default.htm",
                             "default.html", "index.jsp", "index.php"})
# Query parameters that say where a visitor came from, never which page they get.
TRACKING_PREFIXES = ("utm_",)
TRACKING_PARAMETERS = frozenset({
    "spm", "from", "share_token", "isappinstalled", "wd", "fbclid", "gclid", "timestamp",
    "_t", "t", "source", "scene", "clicktime", "enterid",
})
# Characters left as they are when re-quoting a path (RFC 3986 sub-delims, ':' '@' '/' '%').
_PATH_SAFE = "/:@!$&'()*+,;=%~"


def _is_tracking(name: str) -> bool:
    lowered = name.lower()
    return lowered in TRACKING_PARAMETERS or lowered.startswith(TRACKING_PREFIXES)


def _path(path: str) -> str:
    # Decode then re-encode, so "%E6%96%B0" and "新" (and "%7e"/"~") become one spelling.
    path = quote(unquote(path), safe=_PATH_SAFE) or "/"
    head, _, last = path.rpartition("/")
    if last.lower() in INDEX_DOCUMENTS:
        return head + "/"
    if last and "." not in last:
        # "/xxgk/tzgg" and "/xxgk/tzgg/" are twins: a directory, whichever way it is linked.
        return path + "/"
    return path


def canonical_url(url: str) -> str:
    """The canonical spelling of ``url``; any other input (not http/https) is returned as is."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return url
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        return url
    host = parts.hostname.lower().rstrip(".")
    if ":" in host:
        host = f"[{host}]"
    if port is not None and port != DEFAULT_PORTS[scheme]:
        host = f"{host}:{port}"
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
             if not _is_tracking(k)]
    # Order is kept: content.jsp?id=42&cat=7 and ?cat=7&id=42 are equal to a server that reads
    # parameters by name, but a CMS that routes by position exists too, and a false merge is
    # worse than an extra article.
    return urlunsplit((scheme, host, _path(parts.path), urlencode(query, safe="/:,"), ""))


def canonical_urls(urls: list[str]) -> list[str]:
    """Canonical spellings of ``urls``, first occurrence kept, order kept."""
    return list(dict.fromkeys(canonical_url(u) for u in urls))
