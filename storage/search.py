"""Searching the full-text index (``storage.search_index``): query syntax, filters, ranking.

- SQLite: FTS5 ``MATCH`` ranked by bm25 with the title weighted above the body.
- PostgreSQL: ``@@`` on the GIN-indexed tsvector, ranked by ``ts_rank``; phrases use ``<->``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from storage.models import ARTICLE_STATUSES, Article, Source
from storage.search_index import SEARCH_TABLE, is_cjk, tokens
from storage.search_index import runs as word_runs

__all__ = [
    "MAX_LIMIT",
    "SEARCH_TABLE",
    "Filters",
    "SearchQueryError",
    "Term",
    "parse_query",
    "search_ids",
    "search_records",
    "snippet",
    "tokens",
]

# bm25 weights (title, body) on SQLite; ts_rank uses its A/B weights on PostgreSQL.
_TITLE_WEIGHT, _BODY_WEIGHT = 4.0, 1.0
MAX_LIMIT = 100
SORTS = ("relevance", "date")


class SearchQueryError(ValueError):
    """A query that cannot be searched for (nothing to search, unbalanced quotes)."""


# -- queries ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Term:
    """One thing every hit must contain: a phrase of index terms, or a one-character prefix."""

    text: str  # as the user wrote it (normalised), for highlighting
    phrase: tuple[str, ...]
    prefix: bool = False


def parse_query(q: str) -> list[Term]:
    """Words separated by spaces must all occur; ``"quoted text"`` is one phrase.

    A CJK word is found as written (its bigrams in a row), never as scattered characters.
    """
    if q.count('"') % 2:
        raise SearchQueryError(f'unbalanced quote in {q!r}: close the phrase with "')
    parts = re.split(r'"([^"]*)"', q)
    terms: list[Term] = []
    for i, part in enumerate(parts):
        pieces = [part] if i % 2 else part.split()
        for piece in pieces:
            runs = word_runs(piece)
            if not runs:
                continue
            text = " ".join(runs) if i % 2 else "".join(runs)
            if len(runs) == 1 and is_cjk(runs[0]) and len(runs[0]) == 1:
                terms.append(Term(text, (runs[0],), prefix=True))
                continue
            phrase: list[str] = []
            for n, run in enumerate(runs):
                # In the document a CJK run ends with its trailing character (see tokens);
                # the query's last run may go on in the document, so it gets none.
                phrase.extend(tokens(run, trailing=n < len(runs) - 1))
            terms.append(Term(text, tuple(phrase)))
    if not terms:
        raise SearchQueryError(f"nothing to search for in {q!r}: give a word or a phrase")
    return terms


def fts5_match(terms: list[Term]) -> str:
    """An FTS5 MATCH expression: phrases ANDed together."""
    parts = []
    for term in terms:
        phrase = '"' + " ".join(term.phrase) + '"'
        parts.append(phrase + " *" if term.prefix else phrase)
    return " AND ".join(parts)


def tsquery(terms: list[Term]) -> str:
    """A PostgreSQL tsquery literal: phrases with ``<->``, ANDed together."""

    def lexeme(token: str) -> str:
        return "'" + token.replace("\\", "\\\\").replace("'", "''") + "'"

    parts = []
    for term in terms:
        if term.prefix:
            parts.append(lexeme(term.phrase[0]) + ":*")
        elif len(term.phrase) == 1:
            parts.append(lexeme(term.phrase[0]))
        else:
            parts.append("(" + " <-> ".join(lexeme(t) for t in term.phrase) + ")")
    return " & ".join(parts)


# -- searching ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    source: str | None = None
    since: date | datetime | None = None  # published at or after
    until: date | datetime | None = None  # published before (a date: up to its end)
    status: str | None = None
    origin: str | None = None
    timezone: str = "Asia/Shanghai"  # how dates (days) are read


def _bound(value: date | datetime | None, tz: str, end: bool) -> datetime | None:
    """A filter bound as aware UTC: a date is a whole day in ``tz``; a naive time is UTC."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)
    day = value + timedelta(days=1) if end else value
    return datetime.combine(day, time(), ZoneInfo(tz)).astimezone(UTC)


def _filtered(stmt: sa.Select, filters: Filters) -> sa.Select:
    if filters.status is not None:
        if filters.status not in ARTICLE_STATUSES:
            raise SearchQueryError(
                f"unknown status {filters.status!r}: expected one of {ARTICLE_STATUSES}"
            )
        stmt = stmt.where(Article.status == filters.status)
    if filters.source is not None:
        stmt = stmt.where(
            Article.source_id
            == sa.select(Source.id).where(Source.name == filters.source).scalar_subquery()
        )
    if filters.origin is not None:
        stmt = stmt.where(Article.origin == filters.origin)
    since = _bound(filters.since, filters.timezone, end=False)
    until = _bound(filters.until, filters.timezone, end=True)
    if since is not None:
        stmt = stmt.where(Article.published_utc >= since)
    if until is not None:
        stmt = stmt.where(
            Article.published_utc < until
            if isinstance(filters.until, date) and not isinstance(filters.until, datetime)
            else Article.published_utc <= until
        )
    return stmt


def _newest_first(dialect: str) -> list[Any]:
    # SQLite sorts NULLs last in DESC order already, and then uses the published_utc index.
    if dialect == "postgresql":
        return [Article.published_utc.desc().nulls_last(), Article.id.desc()]
    return [Article.published_utc.desc(), Article.id.desc()]


def _has_filters(filters: Filters) -> bool:
    return any(
        v is not None
        for v in (filters.source, filters.since, filters.until, filters.status, filters.origin)
    )


def search_ids(
    conn: sa.Connection,
    q: str | None,
    filters: Filters,
    *,
    limit: int = 20,
    offset: int = 0,
    sort: str | None = None,
) -> tuple[int, list[int], list[Term]]:
    """``(total, article ids of the page, parsed terms)``.

    With a query: by relevance, equal scores newest first; without (or ``sort="date"``):
    newest first. Ties end by id, so the order is total and paging is stable.
    """
    if sort is not None and sort not in SORTS:
        raise SearchQueryError(f"unknown sort {sort!r}: expected one of {SORTS}")
    limit, offset = max(1, min(limit, MAX_LIMIT)), max(0, offset)
    dialect = conn.dialect.name
    terms = parse_query(q) if q and q.strip() else []
    newest = _newest_first(dialect)
    if not terms:
        base = _filtered(sa.select(Article.id), filters)
        total = conn.execute(sa.select(sa.func.count()).select_from(base.subquery())).scalar_one()
        ids = conn.execute(base.order_by(*newest).limit(limit).offset(offset)).scalars().all()
        return total, list(ids), []
    if dialect == "postgresql":
        # The planner's parallel plans for these short queries wait for workers far longer
        # than the search takes (600 ms against 4 ms for a rare word on a busy machine).
        conn.exec_driver_sql("SET LOCAL max_parallel_workers_per_gather = 0")
    index = _Index(dialect, terms)
    if not _has_filters(filters):
        # The search table alone answers: no lookup of every hit in articles.
        total = conn.execute(
            sa.select(sa.func.count()).select_from(index.table).where(index.match)
        ).scalar_one()
        if sort != "date":
            return total, _best_page(conn, index, limit, offset), terms
    base = _filtered(
        sa.select(Article.id).join(index.table, index.key == Article.id).where(index.match), filters
    )
    if _has_filters(filters):
        total = conn.execute(sa.select(sa.func.count()).select_from(base.subquery())).scalar_one()
    order = newest if sort == "date" else [index.best, *newest]
    ids = conn.execute(base.order_by(*order).limit(limit).offset(offset)).scalars().all()
    return total, list(ids), terms


class _Index:
    """The search table's match condition, key and score for one query, per backend."""

    def __init__(self, dialect: str, terms: list[Term]) -> None:
        if dialect == "postgresql":
            query = sa.cast(sa.literal(tsquery(terms)), sa.Text).cast(_TSQUERY)
            self.table = sa.table(SEARCH_TABLE, sa.column("article_id"), sa.column("document"))
            self.key = self.table.c.article_id
            self.match = self.table.c.document.op("@@")(query)
            # As float8: ts_rank's float4 would not come back bit-exact, and ties are
            # found by comparing scores for equality (_best_page).
            self.score = sa.cast(sa.func.ts_rank(self.table.c.document, query), sa.Double)
            self.best, self.higher_is_better = self.score.desc(), True
        else:
            self.table = sa.table(SEARCH_TABLE, sa.column("rowid"))
            self.key = self.table.c.rowid
            self.match = sa.text(f"{SEARCH_TABLE} MATCH :match").bindparams(match=fts5_match(terms))
            self.score = sa.func.bm25(sa.literal_column(SEARCH_TABLE), _TITLE_WEIGHT, _BODY_WEIGHT)
            self.best, self.higher_is_better = self.score.asc(), False  # bm25: lower is better


def _best_page(conn: sa.Connection, index: _Index, limit: int, offset: int) -> list[int]:
    """One page by relevance, equal scores newest first, reading articles only for the page.

    The best ``offset + limit + 1`` hits come from the search table; if the one after the
    page ties with the page's last, every hit with that score is fetched too, so dates can
    order the tie exactly.
    """
    scored = sa.select(index.key.label("id"), index.score.label("score")).where(index.match)
    rows = conn.execute(scored.order_by(index.best).limit(offset + limit + 1)).all()
    if len(rows) <= offset:
        return []
    cut = rows[min(offset + limit, len(rows)) - 1].score
    candidates = {row.id: row.score for row in rows[: offset + limit]}
    if len(rows) == offset + limit + 1 and rows[-1].score == cut:
        tied = conn.execute(scored.where(index.score == cut)).all()
        candidates.update((row.id, row.score) for row in tied)
    published = dict(
        conn.execute(
            sa.select(Article.id, Article.published_utc).where(Article.id.in_(candidates))
        ).all()
    )
    floor = datetime.min.replace(tzinfo=UTC)
    sign = -1 if index.higher_is_better else 1

    def key(article_id: int):
        when = published.get(article_id) or floor
        return (sign * candidates[article_id], -when.timestamp(), -article_id)

    return sorted(candidates, key=key)[offset : offset + limit]


class _TSQueryType(sa.types.UserDefinedType):
    cache_ok = True

    def get_col_spec(self, **kw: Any) -> str:
        return "tsquery"


_TSQUERY = _TSQueryType()


def snippet(text: str | None, terms: list[Term], width: int = 60) -> str:
    """A piece of ``text`` around the first place a query term occurs (or its start)."""
    text = " ".join((text or "").split())
    folded = text.casefold()
    found = [folded.find(t.text) for t in terms if t.text and " " not in t.text]
    found = [i for i in found if i >= 0]
    if not found:
        return text[:width] + ("…" if len(text) > width else "")
    start = max(0, min(found) - width // 3)
    piece = text[start : start + width]
    return ("…" if start else "") + piece + ("…" if start + width < len(text) else "")


def search_records(
    conn: sa.Connection,
    q: str | None,
    filters: Filters,
    *,
    limit: int = 20,
    offset: int = 0,
    sort: str | None = None,
    versions: bool = False,
) -> dict[str, Any]:
    """``{"total", "items": [export record + "snippet"], "terms"}`` for one page of hits."""
    from storage.export import articles_query, records

    total, ids, terms = search_ids(conn, q, filters, limit=limit, offset=offset, sort=sort)
    found: dict[int, dict[str, Any]] = {}
    if ids:
        rows = conn.execute(articles_query().where(Article.id.in_(ids))).all()
        found = {record["id"]: record for record in records(conn, rows)}
    items = []
    for article_id in ids:
        record = found[article_id]
        if not versions:
            del record["versions"]
        record["snippet"] = snippet(record["body_text"], terms)
        items.append(record)
    return {"total": total, "items": items, "terms": [t.text for t in terms]}
