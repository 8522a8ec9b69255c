"""Section entries whose list is at another address: a redirect (``window.location.href =
"…"``, a meta refresh) or a frame.

Some sections' published address (``https://www.gov.cn/yaowen/``) serves a near-empty page
whose script sends the browser to the real list (``/yaowen/liebiao/``); older column pages
show their list in an ``<iframe>`` of the site's own. The crawler reads that address as the
section's next list page.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from govarchive.crawler.list_links import is_chrome, site_key

_LITERAL = r""""([^"\\\n]*)"|'([^'\\\n]*)'"""
# A location set when the page loads: not inside a named function (a pager's jump, a handler).
_SCRIPT_REDIRECT = re.compile(
    r"(?<![\w$.])(?:(?:window|self|top|document|parent)\.)?location(?:\.href)?\s*=\s*(?:"
    + _LITERAL + r")"
    r"|(?<![\w$.])(?:(?:window|self|top|document|parent)\.)?location\.(?:replace|assign)\s*\("
    r"\s*(?:" + _LITERAL + r")\s*\)",
)
_NAMED_FUNCTION = re.compile(r"function\s+[A-Za-z_$][\w$]*\s*\([^)]*\)\s*\{")
_MOBILE = re.compile(r"(?:^|[/.])(?:m|wap|mobile|phone|sj)(?:[/.]|$)", re.IGNORECASE)
_REFRESH = re.compile(r"^\s*\d*\s*[;,]?\s*url\s*=\s*['\"]?([^'\"\s>]+)", re.IGNORECASE)
# A stub shows (almost) nothing; a real list page shows its list.
MAX_STUB_TEXT = 200
MAX_STUB_LINKS = 5


def redirect_target(doc, scripts: list[str], absolute) -> str | None:
    """Where a redirect-stub page sends the browser, or None when the page is not a stub."""
    body = doc.find("body")
    visible = ""
    if body is not None:
        visible = " ".join(
            text for element in body.iter()
            if isinstance(element.tag, str) and element.tag not in ("script", "style")
            for text in (element.text, element.tail if element is not body else None) if text)
    links = sum(1 for a in doc.iter("a") if (a.get("href") or "").strip())
    if len("".join(visible.split())) > MAX_STUB_TEXT or links > MAX_STUB_LINKS:
        return None
    for meta in doc.iter("meta"):
        if (meta.get("http-equiv") or "").strip().lower() == "refresh":
            match = _REFRESH.match(meta.get("content") or "")
            if match and (target := absolute(match.group(1))):
                return target
    onload = body.get("onload") if body is not None else None
    found = [href for script in [*scripts, onload or ""]
             for href in _script_targets(_without_named_functions(script))]
    # A stub that tells phones from computers: the page for computers.
    found.sort(key=lambda href: bool(_MOBILE.search(href)))
    for href in found:
        if target := absolute(href):
            return target
    return None


def _script_targets(script: str) -> list[str]:
    return [next(group for group in match.groups() if group is not None)
            for match in _SCRIPT_REDIRECT.finditer(script)
            if any(group for group in match.groups())]


def _without_named_functions(script: str) -> str:
    """The script without the bodies of its named functions (a pager's jump, a click handler:
    they run when asked, not when the page loads)."""
    out, position = [], 0
    for match in _NAMED_FUNCTION.finditer(script):
        if match.start() < position:
            continue
        out.append(script[position:match.start()])
        depth, index = 1, match.end()
        while index < len(script) and depth:
            depth += {"{": 1, "}": -1}.get(script[index], 0)
            index += 1
        position = index
    out.append(script[position:])
    return "".join(out)


# Frames that show something else than a list: players, maps, weather, counters, search.
# Whole words of the address only: "count" is not "county", "stat" not "statistics".
_WIDGET = re.compile(r"(?<![a-z])(?:video|player|vod|live|map|weather|tianqi|calendar|counter|"
                     r"count|stat|visit|search|sousuo|login|share|ads?|adv|banner|swf)(?![a-z])",
                     re.IGNORECASE)
MIN_FRAME_HEIGHT = 150  # px: a frame lower than this is a strip (a ticker, a date), not a list


def framed_list(doc, absolute, page_url: str) -> str | None:
    """The address of the frame that shows a page's list (a page that lists nothing itself):
    the first ``<iframe>``/``<frame>`` of the site's own, outside the page chrome, not a
    widget and not a thin strip; None when there is none."""
    site = site_key(urlsplit(page_url).hostname or "")
    for frame in doc.iter("iframe", "frame"):
        src = (frame.get("src") or "").strip()
        if not src or src.lower().startswith(("javascript:", "about:", "data:")):
            continue
        target = absolute(src)
        if (not target or target == page_url or _WIDGET.search(target)
                or site_key(urlsplit(target).hostname or "") != site):
            continue
        height = re.match(r"\s*(\d+)\s*(?:px)?\s*$", frame.get("height") or "")
        if height and int(height.group(1)) < MIN_FRAME_HEIGHT:
            continue
        if any(is_chrome(node) for node in (frame, *frame.iterancestors())):
            continue
        return target
    return None
