"""Reading an article's past: its versions and status events as one timeline, one version's
full content, and the differences between two versions (in whole tokens: ``storage.diffs``).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from govarchive.storage.content import HASHED_FIELDS, STORED_FIELDS, normalised
from govarchive.storage.diffs import field_text, token_diff
from govarchive.storage.export import iso
from govarchive.storage.models import Article, ArticleEvent, ArticleVersion, Capture


def _warc(row) -> dict[str, Any] | None:
    if row.warc_file is None:
        return None
    return {"file": row.warc_file, "offset": row.warc_offset, "length": row.warc_length}


def article_history(conn: sa.Connection, article_id: int) -> dict[str, Any] | None:
    """``{"id", "url", "status", "timeline": [...]}``: versions and events, oldest first.

    A version entry: ``{"at", "type": "version", "n", "changed", "revert_of", "content_hash",
    "warc"}``; an event: ``{"at", "type": "event", "kind", "url", "detail", "warc"}``.
    """
    article = conn.execute(
        sa.select(Article.id, Article.url, Article.status).where(Article.id == article_id)
    ).first()
    if article is None:
        return None
    versions = conn.execute(
        sa.select(ArticleVersion.n, ArticleVersion.captured_at, ArticleVersion.changed,
                  ArticleVersion.revert_of, ArticleVersion.content_hash, Capture.warc_file,
                  Capture.warc_offset, Capture.warc_length)
        .join(Capture, Capture.id == ArticleVersion.capture_id)
        .where(ArticleVersion.article_id == article_id)
    ).all()
    events = conn.execute(
        sa.select(ArticleEvent.id, ArticleEvent.kind, ArticleEvent.at, ArticleEvent.url,
                  ArticleEvent.detail, Capture.warc_file, Capture.warc_offset,
                  Capture.warc_length)
        .outerjoin(Capture, Capture.id == ArticleEvent.capture_id)
        .where(ArticleEvent.article_id == article_id)
    ).all()
    timeline: list[tuple[Any, int, int, dict[str, Any]]] = []
    for v in versions:
        timeline.append((v.captured_at, 0, v.n, {
            "at": iso(v.captured_at), "type": "version", "n": v.n, "changed": list(v.changed),
            "revert_of": v.revert_of, "content_hash": v.content_hash, "warc": _warc(v),
        }))
    for e in events:
        timeline.append((e.at, 1, e.id, {
            "at": iso(e.at), "type": "event", "kind": e.kind, "url": e.url, "detail": e.detail,
            "warc": _warc(e),
        }))
    timeline.sort(key=lambda entry: entry[:3])
    return {"id": article.id, "url": article.url, "status": article.status,
            "timeline": [entry[3] for entry in timeline]}


def version_content(conn: sa.Connection, article_id: int, n: int) -> dict[str, Any] | None:
    """Version ``n``'s stored fields and body HTML, with ``n``, ``captured_at`` and
    ``revert_of``."""
    columns = [getattr(ArticleVersion, name) for name in (*STORED_FIELDS, "body_html")]
    row = conn.execute(
        sa.select(ArticleVersion.n, ArticleVersion.captured_at, ArticleVersion.revert_of,
                  ArticleVersion.changed, *columns)
        .where(ArticleVersion.article_id == article_id, ArticleVersion.n == n)
    ).mappings().first()
    if row is None:
        return None
    content = dict(row)
    content["captured_at"] = iso(row["captured_at"])
    content["section"] = list(row["section"] or [])
    content["attachments"] = list(row["attachments"] or [])
    content["changed"] = list(row["changed"] or [])
    return content


def article_diff(conn: sa.Connection, article_id: int, from_n: int | None,
                 to_n: int | None) -> dict[str, Any] | None:
    """Field differences between two versions (default: the last two).

    ``{"id", "from", "to", "changed": [field...], "fields": {field: [[op, text], ...]}}``, only
    fields whose normalised content differs; None when the article or a version is missing.
    """
    ns = list(conn.execute(
        sa.select(ArticleVersion.n).where(ArticleVersion.article_id == article_id)
        .order_by(ArticleVersion.n)).scalars())
    if not ns:
        return None
    to_n = ns[-1] if to_n is None else to_n
    from_n = (max((n for n in ns if n < to_n), default=to_n)) if from_n is None else from_n
    old, new = version_content(conn, article_id, from_n), version_content(conn, article_id, to_n)
    if old is None or new is None:
        return None
    before, after = normalised(old), normalised(new)
    changed = [f for f in HASHED_FIELDS if before[f] != after[f]]
    return {
        "id": article_id, "from": from_n, "to": to_n, "changed": changed,
        "fields": {f: token_diff(field_text(f, old[f]), field_text(f, new[f])) for f in changed},
    }
