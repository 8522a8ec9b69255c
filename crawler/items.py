"""What the spider hands to the pipelines."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta


@dataclass
class ArticleItem:
    """One extracted article page, tied to the WARC response record it was parsed from."""

    source: str
    url: str                      # where it was finally fetched (after redirects)
    urls: list[str]               # every URL on the way there (redirects first)
    record_id: str                # WARC-Record-ID of the archived response
    fetched_at: datetime
    fields: dict = field(default_factory=dict)   # crawler.extract.Article.to_record()
    signature: list[int] | None = None           # storage.ArticleIn.signature
    section_url: str | None = None                # storage.ArticleIn.section_url


@dataclass
class ObservationItem:
    """A fetch of an article URL that produced no article (see storage.tracking)."""

    source: str
    url: str
    record_id: str | None
    fetched_at: datetime
    kind: str  # "gone" | "blocked" | "not_modified"
    reason: str | None = None
    confirmations: int = 2  # the source's removal policy ([sources.tracking])
    min_interval: timedelta = timedelta(hours=24)
