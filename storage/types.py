"""What callers hand to the store and get back from it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


class StorageError(RuntimeError):
    """The database cannot be used as it is; the message says what to do."""


@dataclass
class CaptureIn:
    """One archived WARC record (response or revisit)."""

    record_id: str
    url: str
    fetched_at: datetime
    status: int | None
    content_type: str | None
    payload_digest: str | None
    warc_file: str
    warc_offset: int
    warc_length: int
    record_type: str = "response"
    etag: str | None = None
    last_modified: str | None = None


@dataclass
class ArticleIn:
    """An extracted article, captured by the WARC record ``capture_record_id``.

    ``fields`` is ``crawler.extract.Article.to_record()`` without ``url``. ``signature`` is
    ``storage.signatures.article_signature`` of its title and body_text when the caller has
    already worked it out (``[]``: the text is too short to have one); ``None``: ingest does.
    ``section_url``: the start URL of the section whose list pages linked the article in this
    run, if any. A new article is stored with it, as the section's listing (``ListingIn``)
    would set it at the end of the run; that saves rewriting every new article's row then.
    """

    source: str
    url: str
    urls: list[str]
    capture_record_id: str
    fetched_at: datetime
    fields: dict[str, Any]
    signature: list[int] | None = None
    section_url: str | None = None


@dataclass
class IngestResult:
    new_articles: int = 0
    new_versions: int = 0
    unchanged: int = 0
    article_ids: list[int] = field(default_factory=list)
