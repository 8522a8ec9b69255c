"""The pictures of an article's body and where the archive holds each (the export's ``images``).

Images are fetched after their article, as page requisites (``crawler.requisites``), and are
captures like any other: no table links them to the article. Each image of an article's
current version (``ArticleVersion.extra["images"]``, written by the extractor) is matched to
the captures of its URL when it is read, so ``govarchive replay reparse``, which rebuilds
captures and versions from the archive alone, brings the links back with them.

Which capture: the first of the URL at or after the version's own capture (images follow
their page), else the last one before it (an image fetched with an earlier version). A revisit
capture stands for the response record it repeats: the latest earlier response of the same URL
with the same payload digest (a 304: the latest earlier response), so ``warc`` always points at
a response record, whose payload is the image.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from govarchive.storage.models import ArticleVersion, Capture
from govarchive.storage.sql import in_chunks


def image_list(extra: dict[str, Any] | None) -> list[dict[str, str]]:
    """The images an article version's extractor output names, as ``{url, alt}`` (versions
    stored before images had alt text hold bare URLs)."""
    found = []
    for image in (extra or {}).get("images") or []:
        if isinstance(image, str):
            image = {"url": image, "alt": ""}
        if isinstance(image, dict) and image.get("url"):
            found.append({"url": image["url"], "alt": image.get("alt") or ""})
    return found


def _current_images(conn: sa.Connection,
                    ids: list[int]) -> dict[int, tuple[datetime, list[dict[str, str]]]]:
    """{article id: (its newest version's capture time, that version's images)}."""
    newest = (
        sa.select(ArticleVersion.article_id, sa.func.max(ArticleVersion.n).label("n"))
        .where(ArticleVersion.article_id.in_(ids))
        .group_by(ArticleVersion.article_id)
        .subquery()
    )
    stmt = sa.select(ArticleVersion.article_id, ArticleVersion.captured_at,
                     ArticleVersion.extra).join(
        newest, sa.and_(newest.c.article_id == ArticleVersion.article_id,
                        newest.c.n == ArticleVersion.n))
    return {row.article_id: (row.captured_at, image_list(row.extra))
            for row in conn.execute(stmt)}


class _UrlCaptures:
    """The captures (200 and 304) of one URL, in fetch order."""

    def __init__(self) -> None:
        self.times: list[datetime] = []
        self.rows: list[sa.Row] = []

    def add(self, row: sa.Row) -> None:
        self.times.append(row.fetched_at)
        self.rows.append(row)

    def record_near(self, when: datetime) -> sa.Row | None:
        """The response record holding the image as captured nearest after ``when``."""
        if not self.rows:
            return None
        i = bisect.bisect_left(self.times, when)
        chosen = i if i < len(self.rows) else len(self.rows) - 1
        capture = self.rows[chosen]
        if capture.record_type == "response":
            return capture
        for earlier in reversed(self.rows[:chosen]):
            if earlier.record_type == "response" and (
                    capture.status == 304 or earlier.payload_digest == capture.payload_digest):
                return earlier
        return None


def _captures_of(conn: sa.Connection, urls: set[str]) -> dict[str, _UrlCaptures]:
    found: dict[str, _UrlCaptures] = defaultdict(_UrlCaptures)
    for chunk in in_chunks(sorted(urls)):
        stmt = (
            sa.select(Capture.url, Capture.fetched_at, Capture.status, Capture.record_type,
                      Capture.payload_digest, Capture.warc_file, Capture.warc_offset,
                      Capture.warc_length)
            .where(Capture.url.in_(chunk), Capture.status.in_((200, 304)))
            .order_by(Capture.url, Capture.fetched_at, Capture.id)
        )
        for row in conn.execute(stmt):
            found[row.url].add(row)
    return found


def article_images(conn: sa.Connection, ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """{article id: ``[{url, alt, warc: {file, offset, length} or None}]``} for the images of
    each article's current version (``warc`` None: the image was never archived)."""
    current = _current_images(conn, ids)
    captures = _captures_of(conn, {image["url"] for _, images in current.values()
                                   for image in images})
    result: dict[int, list[dict[str, Any]]] = {}
    for article_id, (captured_at, images) in current.items():
        listed = []
        for image in images:
            record = captures[image["url"]].record_near(captured_at) \
                if image["url"] in captures else None
            warc = None if record is None else {
                "file": record.warc_file, "offset": record.warc_offset,
                "length": record.warc_length}
            listed.append({**image, "warc": warc})
        result[article_id] = listed
    return result
