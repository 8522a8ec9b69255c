"""Article content: normalising the extractor's fields, hashing them, finding what changed."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime
from typing import Any

# The fields whose change makes a new version, in the order `changed` lists them.
HASHED_FIELDS = (
    "title",
    "published_at",
    "origin",
    "author",
    "doc_number",
    "body_text",
    "attachments",
)
# Content kept with each version and on the article, beyond the hashed fields.
STORED_FIELDS = HASHED_FIELDS + ("published_precision", "section")
VERSION_ONLY_FIELDS = ("body_html",)


def collapse_whitespace(text: str) -> str:
    # str.split() also splits on U+3000 (ideographic space) and U+00A0, common on these pages.
    return " ".join(text.split())


# Page furniture that changes on every fetch or every template edit and is never the article:
# visitor counters (访问量/浏览次数/阅读数/点击数), page-generation stamps (页面生成时间),
# print/close/font-size controls. The extractor drops most chrome; these survive inside the
# content block on some CMSs, so the hash ignores them whatever the extractor does.
_COUNTER = re.compile(
    r"(?:访问量|访问次数|浏览次数|浏览量|阅读次数|阅读量|阅读数|点击数|点击量|点击率|访问人次|人气)"
    r"\s*[:：]?\s*\[?\s*\d[\d,，]*\s*\]?\s*次?"
)
_GENERATED = re.compile(
    r"(?:页面生成时间|生成时间|页面生成于|本页生成时间)\s*[:：]?\s*"
    r"[\d\-/年月日:： .T]*(?:\s*秒|\s*ms|\s*毫秒)?"
)
_CONTROLS = re.compile(
    r"[【\[]\s*(?:打印本页|打印|关闭窗口|关闭|收藏|返回顶部|字体|字号)\s*[】\]]"
    r"|字号\s*[:：]\s*[大中小]\s*[大中小]\s*[大中小]"
    r"|(?:分享到|扫一扫在手机打开当前页)"
)


# A pattern runs only when one of its words is in the text: a substring test is a fast C
# scan, while an alternation of Chinese words makes the regex engine try every position.
_CHROME_PATTERNS = (
    (_COUNTER, ("访问", "浏览", "阅读", "点击", "人气")),
    (_GENERATED, ("生成",)),
    (_CONTROLS, ("打印", "关闭", "收藏", "返回顶部", "字体", "字号", "分享到", "扫一扫")),
)

_SPACES = re.compile(r"\s+")


def strip_chrome(text: str) -> str:
    """``text`` without counters, generation stamps and page controls."""
    for pattern, words in _CHROME_PATTERNS:
        if any(word in text for word in words):
            text = pattern.sub(" ", text)
    return text


def drop_layout_space(text: str) -> str:
    """Whitespace next to a CJK character (or any non-ASCII one) is layout, not content:
    Chinese puts no spaces between words, and pages indent paragraphs with U+3000."""

    def keep_or_drop(match: re.Match) -> str:
        start, end = match.span()
        if (start and not text[start - 1].isascii()) or (end < len(text) and not text[end].isascii()):
            return ""
        return match.group()

    return _SPACES.sub(keep_or_drop, text)


def _normalise(field: str, value: Any) -> Any:
    if value is None:
        return None
    if field == "attachments":
        return [
            {key: collapse_whitespace(str(item.get(key) or "")) for key in ("url", "name")}
            for item in value
        ]
    if isinstance(value, datetime):
        value = value.isoformat()
    text = str(value)
    if field in ("body_text", "title"):
        text = drop_layout_space(strip_chrome(text))
    text = collapse_whitespace(text)
    if field == "body_text":
        return text
    # An empty title (or origin, ...) and a missing one are the same content.
    return text or None


def normalised(fields: dict[str, Any]) -> dict[str, Any]:
    return {field: _normalise(field, fields.get(field)) for field in HASHED_FIELDS}


def content_hash(fields: dict[str, Any]) -> str:
    canonical = json.dumps(
        normalised(fields), ensure_ascii=False, sort_keys=True, separators=(",", ":")
    )
    return "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def changed_fields(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    before, after = normalised(old), normalised(new)
    return [field for field in HASHED_FIELDS if before[field] != after[field]]


def published_iso(value: Any) -> str | None:
    """The extractor's published_at as an ISO string, keeping its own offset."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError(
                f"published_at {value!r} is naive: the extractor gives aware datetimes"
            )
        return value.isoformat()
    return str(value)


def published_utc(iso: str | None) -> datetime | None:
    """UTC instant of an ISO published_at, for sorting; a date alone is read as midnight UTC."""
    if not iso:
        return None
    try:
        parsed = datetime.fromisoformat(iso)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def attachments_list(value: Any) -> list[dict[str, str]]:
    """Attachments as plain dicts, whether given as dicts or as objects with url/name."""
    items = []
    for item in value or []:
        if isinstance(item, dict):
            items.append({"url": item.get("url"), "name": item.get("name")})
        else:
            items.append({"url": item.url, "name": item.name})
    return items


def body_shrank(old_body: str | None, new_body: str | None) -> bool:
    """Whether the new body lost more than half of the old one (or all of it): what a failed
    extraction or a half-served page looks like, so it needs a second fetch to agree."""
    old = len(collapse_whitespace(strip_chrome(old_body or "")))
    new = len(collapse_whitespace(strip_chrome(new_body or "")))
    return old > 0 and new * 2 < old
