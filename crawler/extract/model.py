"""The extracted article: what the spider stores and the export record is built from."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


class NotHTMLError(ValueError):
    """The bytes are not an HTML page (a PDF, an image, JSON, an empty body...)."""


@dataclass
class Attachment:
    url: str
    name: str


@dataclass
class Image:
    """A picture inside the article body: its absolute URL and its alt text ("" if none)."""

    url: str
    alt: str = ""


@dataclass
class Article:
    url: str
    title: str | None = None
    published_at: datetime | None = None
    published_precision: str | None = None
    origin: str | None = None
    author: str | None = None
    section: list[str] = field(default_factory=list)
    doc_number: str | None = None
    body_text: str = ""
    body_html: str = ""
    attachments: list[Attachment] = field(default_factory=list)
    images: list[Image] = field(default_factory=list)
    # The page's own requisites (crawler.requisites): its stylesheets, and every other
    # image, script and icon. Not part of the export record.
    stylesheets: list[str] = field(default_factory=list)
    page_resources: list[str] = field(default_factory=list)
    encoding: str = "utf-8"
    truncated: bool = False

    def to_record(self) -> dict:
        """JSON-ready fields of the export contract (datetimes as ISO 8601 with offset)."""
        return {
            "url": self.url,
            "title": self.title,
            "published_at": self.published_at.isoformat() if self.published_at else None,
            "published_precision": self.published_precision,
            "origin": self.origin,
            "author": self.author,
            "section": list(self.section),
            "doc_number": self.doc_number,
            "body_text": self.body_text,
            "body_html": self.body_html,
            "attachments": [{"url": a.url, "name": a.name} for a in self.attachments],
            "images": [{"url": i.url, "alt": i.alt} for i in self.images],
            "encoding": self.encoding,
            "truncated": self.truncated,
        }
