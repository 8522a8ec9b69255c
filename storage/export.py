"""Reading articles back as the contract's export record (CONTRACT.md, "Export record")."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from govarchive.storage.content import published_utc as utc_instant
from govarchive.storage.duplicates import duplicates_of
from govarchive.storage.images import article_images
from govarchive.storage.models import Article, ArticleUrl, ArticleVersion, Capture, Source

EXPORT_CHUNK = 200

_ARTICLE_COLUMNS = (
    Article.id,
    Source.name.label("source"),
    Article.url,
    Article.title,
    Article.published_at,
    Article.published_precision,
    Article.origin,
    Article.author,
    Article.section,
    Article.doc_number,
    Article.body_text,
    Article.attachments,
    Article.status,
    Article.first_seen,
    Article.last_seen,
    Article.last_changed,
)


def iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def articles_query(source: str | None = None, since: datetime | None = None) -> sa.Select:
    stmt = sa.select(*_ARTICLE_COLUMNS).join(Source, Source.id == Article.source_id)
    if source is not None:
        stmt = stmt.where(Source.name == source)
    if since is not None:
        stmt = stmt.where(Article.last_changed >= since)
    return stmt.order_by(Article.id)


def _urls(conn: sa.Connection, ids: list[int]) -> dict[int, list[str]]:
    urls: dict[int, list[str]] = defaultdict(list)
    stmt = (
        sa.select(ArticleUrl.article_id, ArticleUrl.url)
        .where(ArticleUrl.article_id.in_(ids))
        .order_by(ArticleUrl.article_id, ArticleUrl.id)
    )
    for article_id, url in conn.execute(stmt):
        urls[article_id].append(url)
    return urls


def _versions(conn: sa.Connection, ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    versions: dict[int, list[dict[str, Any]]] = defaultdict(list)
    stmt = (
        sa.select(
            ArticleVersion.article_id,
            ArticleVersion.n,
            ArticleVersion.captured_at,
            ArticleVersion.content_hash,
            ArticleVersion.changed,
            ArticleVersion.revert_of,
            Capture.warc_file,
            Capture.warc_offset,
            Capture.warc_length,
        )
        .join(Capture, Capture.id == ArticleVersion.capture_id)
        .where(ArticleVersion.article_id.in_(ids))
        .order_by(ArticleVersion.article_id, ArticleVersion.n)
    )
    for row in conn.execute(stmt):
        versions[row.article_id].append(
            {
                "n": row.n,
                "captured_at": iso(row.captured_at),
                "content_hash": row.content_hash,
                "changed": list(row.changed),
                # Extension, only on a revert (A->B->A): the version it undoes.
                **({"revert_of": row.revert_of} if row.revert_of else {}),
                "warc": {
                    "file": row.warc_file,
                    "offset": row.warc_offset,
                    "length": row.warc_length,
                },
            }
        )
    return versions


def records(conn: sa.Connection, rows: list[sa.Row]) -> list[dict[str, Any]]:
    """Export records for a chunk of article rows, with two queries for their urls and versions."""
    ids = [row.id for row in rows]
    urls, versions = _urls(conn, ids), _versions(conn, ids)
    duplicates = duplicates_of(conn, ids)
    images = article_images(conn, ids)
    return [
        {
            "id": row.id,
            "source": row.source,
            "url": row.url,
            "urls": urls.get(row.id, [row.url]),
            "title": row.title,
            "published_at": row.published_at,
            "published_precision": row.published_precision,
            "origin": row.origin,
            "author": row.author,
            "section": list(row.section),
            "doc_number": row.doc_number,
            "body_text": row.body_text,
            "attachments": list(row.attachments),
            "images": images.get(row.id, []),
            "status": row.status,
            "first_seen": iso(row.first_seen),
            "last_seen": iso(row.last_seen),
            "last_changed": iso(row.last_changed),
            "duplicates": duplicates.get(row.id, []),
            "versions": versions.get(row.id, []),
        }
        for row in rows
    ]


def iter_records(conn: sa.Connection, stmt: sa.Select) -> Iterator[dict[str, Any]]:
    """Stream records: a server-side cursor over articles, details fetched chunk by chunk."""
    result = conn.execution_options(yield_per=EXPORT_CHUNK).execute(stmt)
    for chunk in result.partitions():
        yield from records(conn, list(chunk))


# -- csv and parquet (``govarchive export --format csv|parquet``) ---------------------------

CSV_COLUMNS = (
    "id", "source", "url", "urls", "title", "published_at", "published_precision", "origin",
    "author", "section", "doc_number", "body_text", "attachments", "images", "status",
    "first_seen", "last_seen", "last_changed", "duplicates", "versions",
)
PARQUET_ROW_GROUP = 1000


def csv_lines(records: Iterable[dict[str, Any]], bom: bool = False) -> Iterator[str]:
    """A header and one CSV row a record (RFC 4180, CRLF); list and object fields as JSON.

    ``bom``: start with U+FEFF, which UTF-8 encodes as its byte order mark: Excel reads a CSV
    without one in the system code page (GBK on Chinese Windows) and garbles every character.
    """
    import csv
    import io
    import json

    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def line(values: Iterable[Any]) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(values)
        return buffer.getvalue()

    yield ("\ufeff" if bom else "") + line(CSV_COLUMNS)
    for record in records:
        yield line(
            json.dumps(record.get(c), ensure_ascii=False)
            if isinstance(record.get(c), (list, dict)) else record.get(c)
            for c in CSV_COLUMNS
        )


TIME_COLUMNS = ("published_at", "first_seen", "last_seen", "last_changed")


def parquet_schema():
    """The export record as Arrow types. Times are UTC timestamps, so tools compare and sort
    them as times: a column has one time zone, and the source's own offset is a property of
    the source. A ``published_at`` that is only a date reads as midnight UTC, with
    ``published_precision`` saying "day"."""
    import pyarrow as pa

    instant = pa.timestamp("us", tz="UTC")
    warc = pa.struct([("file", pa.string()), ("offset", pa.int64()), ("length", pa.int64())])
    version = pa.struct([
        ("n", pa.int32()), ("captured_at", instant), ("content_hash", pa.string()),
        ("changed", pa.list_(pa.string())), ("revert_of", pa.int32()), ("warc", warc),
    ])
    attachment = pa.struct([("url", pa.string()), ("name", pa.string())])
    image = pa.struct([("url", pa.string()), ("alt", pa.string()), ("warc", warc)])
    text = ("title", "published_precision", "origin", "author", "doc_number", "body_text",
            "status")
    types = {
        "id": pa.int64(), "source": pa.string(), "url": pa.string(),
        "urls": pa.list_(pa.string()), "section": pa.list_(pa.string()),
        "attachments": pa.list_(attachment), "images": pa.list_(image), "duplicates": pa.list_(pa.int64()),
        "versions": pa.list_(version), **{name: pa.string() for name in text},
        **{name: instant for name in TIME_COLUMNS},
    }
    return pa.schema([(name, types[name]) for name in CSV_COLUMNS])


def _parquet_row(record: dict[str, Any]) -> dict[str, Any]:
    """A record with its ISO 8601 times as UTC datetimes."""
    row = {name: record.get(name) for name in CSV_COLUMNS}
    for name in TIME_COLUMNS:
        row[name] = utc_instant(row[name])
    row["versions"] = [{**version, "captured_at": utc_instant(version.get("captured_at"))}
                       for version in row["versions"] or []]
    return row


def write_parquet(records: Iterable[dict[str, Any]], path: Any) -> int:
    """Stream records into a Parquet file, a row group per ``PARQUET_ROW_GROUP``; returns the
    count. Needs pyarrow (``pip install govarchive[parquet]``): ImportError otherwise."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema, count, batch = parquet_schema(), 0, []
    with pq.ParquetWriter(path, schema, compression="zstd") as writer:
        for record in records:
            batch.append(_parquet_row(record))
            if len(batch) == PARQUET_ROW_GROUP:
                writer.write_table(pa.Table.from_pylist(batch, schema=schema))
                count, batch = count + len(batch), []
        if batch:
            writer.write_table(pa.Table.from_pylist(batch, schema=schema))
            count += len(batch)
    return count
