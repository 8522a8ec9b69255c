"""Response models of the JSON API: they give the OpenAPI schema its shapes (the export record of the README)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class _Model(BaseModel):
    model_config = ConfigDict(extra="allow")


class WarcPointer(_Model):
    file: str
    offset: int
    length: int


class Version(_Model):
    n: int
    captured_at: str
    content_hash: str
    changed: list[str]
    revert_of: int | None = None
    warc: WarcPointer | None


class Attachment(_Model):
    url: str | None = None
    name: str | None = None


class ArticleRecord(_Model):
    """The export record (``govarchive export``; ``articles show --json``)."""

    id: int
    source: str
    url: str
    urls: list[str]
    title: str | None
    published_at: str | None
    published_precision: str | None
    origin: str | None
    author: str | None
    section: list[str]
    doc_number: str | None
    body_text: str
    attachments: list[Attachment]
    status: str = Field(description="live or removed")
    first_seen: str
    last_seen: str
    last_changed: str
    duplicates: list[int]
    versions: list[Version] | None = None


class SearchHit(ArticleRecord):
    snippet: str = Field(description="a piece of the body around the first query term")


class SearchPage(_Model):
    total: int = Field(description="hits in all pages (at least, when total_exact is false)")
    total_exact: bool = Field(description="false when counting stopped past 300 hits "
                              "(ask exact_total=true for the whole count)")
    ranked: int = Field(description="how many leading hits are in relevance order: the newest "
                        "300 hits of a query are ranked, any further hits follow newest first")
    items: list[SearchHit]


class FieldDiff(_Model):
    id: int
    from_: int = Field(alias="from")
    to: int
    changed: list[str]
    fields: dict[str, list[tuple[str, str]]] = Field(
        description="per changed field, [op, text] runs; op is equal, delete or insert"
    )


class Run(_Model):
    id: int
    source: str
    status: str
    started_at: str
    finished_at: str | None
    requests: int
    new_articles: int
    new_versions: int
    removed: int
    bytes_archived: int
    error: str | None
