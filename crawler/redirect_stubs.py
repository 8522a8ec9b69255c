"""Section entries that are only a redirect: ``window.location.href = "…"`` or a meta refresh.

Some sections' published address (``https://www.gov.cn/yaowen/``) serves a near-empty page
whose script sends the browser to the real list (``/yaowen/liebiao/``). The crawler reads that
target as the section's next list page.
"""

from __future__ import annotations

import re

_LITERAL = r""""([^"\\\n]*)"|'([^'\\\n]*)'"""
# A location set at the script's top level: not inside a function (a pager's jump) or a handler.
_SCRIPT_REDIRECT = re.compile(
    r"^\s*(?:(?:window|self|top|document|parent)\.)?location(?:\.href)?\s*=\s*(?:" + _LITERAL + r")"
    r"|^\s*(?:(?:window|self|top|document|parent)\.)?location\.(?:replace|assign)\s*\(\s*(?:"
    + _LITERAL + r")\s*\)",
    re.MULTILINE,
)
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
    for script in scripts:
        for match in _SCRIPT_REDIRECT.finditer(_top_level(script)):
            href = next(group for group in match.groups() if group is not None) \
                if any(g is not None for g in match.groups()) else ""
            if href and (target := absolute(href)):
                return target
    return None


def _top_level(script: str) -> str:
    """The script without its brace-enclosed blocks (function bodies, if branches)."""
    out, depth = [], 0
    for char in script:
        if char == "{":
            depth += 1
        elif char == "}":
            depth = max(0, depth - 1)
        elif depth == 0:
            out.append(char)
    return "".join(out)
