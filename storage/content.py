"""Article content: normalising the extractor's fields, hashing them, finding what changed."""

from __future__ import annotations

import hashlib
import json
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
    text = collapse_whitespace(str(value))
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
