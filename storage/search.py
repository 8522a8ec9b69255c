"""Searching the full-text index (``storage.search_index``): query syntax, filters, ranking.

- SQLite: FTS5 ``MATCH`` ranked by bm25 with the title weighted above the body.
- PostgreSQL: ``@@`` on the GIN-indexed tsvector, ranked by ``ts_rank``; phrases use ``<->``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from govarchive.storage.models import ARTICLE_STATUSES, Article, Source
from govarchive.storage.search_index import KEY_ID_MASK, SEARCH_TABLE, first_key
from govarchive.storage.search_periods import postgresql_page
from govarchive.storage.search_terms import is_cjk, tokens
from govarchive.storage.search_terms import runs as word_runs
from govarchive.times import DEFAULT_TIMEZONE

__all__ = [
    "MAX_LIMIT",
    "SEARCH_TABLE",
    "Filters",
    "Found",
    "Paging",
    "SearchQueryError",
    "Term",
    "matching_ids",
    "parse_query",
    "search_ids",
    "search_records",
    "snippet",
    "tokens",
    "validate_query",
]

# bm25 weights (title, body) on SQLite; ts_rank uses its A/B weights on PostgreSQL.
_TITLE_WEIGHT, _BODY_WEIGHT = 4.0, 1.0
MAX_LIMIT = 100
# Relevance ranks the newest this many hits of a query; any further hits follow newest
# first. Ranking every hit of a common word costs time in proportion to the archive; a
# news archive's readers want what is both relevant and recent, and a narrower query or a
# date range reaches older articles.
RANK_WINDOW = 300
# Hits are counted up to this many ("300+"), for the same reason: an exact count of a
# common word reads all of its hits. Asked for, the count is exact.
TOTAL_LIMIT = 300
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


def validate_query(q: str) -> None:
    """Raise ``SearchQueryError`` (saying what is wrong) when ``q`` cannot be searched for."""
    parse_query(q)


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
    timezone: str = DEFAULT_TIMEZONE  # how dates (days) are read


def _bound(value: date | datetime | None, tz: str, end: bool) -> datetime | None:
    """A filter bound as aware UTC: a date is a whole day in ``tz``; a naive time is UTC."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)
    day = value + timedelta(days=1) if end else value
    return datetime.combine(day, time(), ZoneInfo(tz)).astimezone(UTC)


def _filtered(stmt: sa.Select, filters: Filters) -> sa.Select:
    return _date_filters(_attribute_filters(stmt, filters), filters)


def _attribute_filters(stmt: sa.Select, filters: Filters) -> sa.Select:
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
    return stmt


def _date_filters(stmt: sa.Select, filters: Filters) -> sa.Select:
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


@dataclass(frozen=True)
class Found:
    """One page of a search: ``total`` hits in all (at least that many, when not
    ``total_exact``), the page's article ids, and the parsed query terms."""

    total: int
    total_exact: bool
    ids: list[int]
    terms: list[Term]


@dataclass(frozen=True)
class Paging:
    """Which page of hits, in which order, and whether to count every hit."""

    limit: int = 20
    offset: int = 0
    sort: str | None = None  # "relevance" (the default with a query) or "date"
    exact_total: bool = False


def search_ids(conn: sa.Connection, q: str | None, filters: Filters, paging: Paging) -> Found:
    """One page of article ids for a query and filters.

    With a query: the newest ``RANK_WINDOW`` hits by relevance (equal scores newest first),
    then any further hits newest first; without a query (or ``sort="date"``): newest first.
    Ties end by id, so the order is total and paging is stable. Hits are counted up to
    ``TOTAL_LIMIT`` unless ``exact_total`` (which reads every hit).
    """
    sort = paging.sort
    if sort is not None and sort not in SORTS:
        raise SearchQueryError(f"unknown sort {sort!r}: expected one of {SORTS}")
    limit, offset = max(1, min(paging.limit, MAX_LIMIT)), max(0, paging.offset)
    dialect = conn.dialect.name
    terms = parse_query(q) if q and q.strip() else []
    cap = None if paging.exact_total else TOTAL_LIMIT
    if not terms:
        base = _filtered(sa.select(Article.id), filters)
        counted = _count(conn, base, cap)
        page = base.order_by(*_newest_first(dialect)).limit(limit).offset(offset)
        return _found(counted, cap, list(conn.execute(page).scalars()), [])
    if dialect == "postgresql":
        # For these short queries the planner's parallel plans wait for workers far longer
        # than the search takes; and it does not count the cost of unpacking each row's
        # tsvector, so a sequential scan testing every row may look cheaper than asking the
        # GIN index, which it is not.
        # One statement, local to this transaction.
        conn.exec_driver_sql("SELECT set_config('max_parallel_workers_per_gather', '0', true), "
                             "set_config('enable_seqscan', 'off', true)")
    index = _Index(dialect, terms)
    hits = index.hits(filters)
    if dialect == "postgresql":
        counted, ids = postgresql_page(
            conn, hits, index.table, index.query, _key_range(filters), limit=limit,
            offset=offset, by_date=sort == "date", window=RANK_WINDOW, count_cap=cap)
        return _found(counted, cap, ids, terms)
    counted = _count(conn, hits, cap)
    newest = hits.order_by(index.key.desc())
    if sort == "date":
        return _found(counted, cap, list(conn.execute(newest.limit(limit).offset(offset)).scalars()),
                      terms)
    ids = []
    if offset < RANK_WINDOW:
        ranked = index.ranked(newest.limit(RANK_WINDOW))
        ids += conn.execute(ranked.limit(min(limit, RANK_WINDOW - offset)).offset(offset)).scalars()
    if offset + limit > RANK_WINDOW:
        # Past the ranked window the hits go on newest first (if there are any: the count
        # may have stopped short of the window).
        start = max(offset, RANK_WINDOW)
        ids += conn.execute(newest.limit(offset + limit - start).offset(start)).scalars()
    return _found(counted, cap, ids, terms)


def _found(counted: int, cap: int | None, ids: list[int], terms: list[Term]) -> Found:
    if cap is not None and counted > cap:
        return Found(cap, False, ids, terms)
    return Found(counted, True, ids, terms)


def _count(conn: sa.Connection, stmt: sa.Select, cap: int | None) -> int:
    """How many rows ``stmt`` selects; with a ``cap``, at most ``cap + 1`` (so "more than
    ``cap``" is known without reading the rest)."""
    if cap is not None:
        stmt = stmt.limit(cap + 1)
    return conn.execute(sa.select(sa.func.count()).select_from(stmt.subquery())).scalar_one()


def _key_range(filters: Filters) -> tuple[int | None, int | None]:
    """The date filters as a range of index keys (see ``storage.search_index.sort_key``)."""
    since = _bound(filters.since, filters.timezone, end=False)
    until = _bound(filters.until, filters.timezone, end=True)
    low = high = None
    if since is not None:
        low = first_key(math.ceil(since.timestamp()))
    elif until is not None:
        low = first_key()  # a date range leaves out undated articles, as SQL's < does
    if until is not None:
        if isinstance(filters.until, datetime):  # published at or before
            high = first_key(math.floor(until.timestamp()) + 1)
        else:  # published before the day after
            high = first_key(math.ceil(until.timestamp()))
    return low, high


class _Index:
    """The search table for one query, per backend: its hits (as article ids, in index
    order) and their relevance score."""

    def __init__(self, dialect: str, terms: list[Term]) -> None:
        if dialect == "postgresql":
            self.query = sa.cast(sa.literal(tsquery(terms)), sa.Text).cast(_TSQUERY)
            self.table = sa.table(
                SEARCH_TABLE, sa.column("article_id"), sa.column("sort_key"), sa.column("document")
            )
            self.key, self.article_id = self.table.c.sort_key, self.table.c.article_id
            self.match = self.table.c.document.op("@@")(self.query)
        else:
            self.table = sa.table(SEARCH_TABLE, sa.column("rowid"))
            self.key = self.table.c.rowid
            self.article_id = self.key.op("&")(KEY_ID_MASK)
            self.match = sa.text(f"{SEARCH_TABLE} MATCH :match").bindparams(match=fts5_match(terms))
        self.dialect = dialect

    def hits(self, filters: Filters) -> sa.Select:
        """``SELECT id`` of every hit passing ``filters``: dates as a key range; the other
        filters look each hit up in ``articles``."""
        stmt = sa.select(self.article_id.label("id")).select_from(self.table).where(self.match)
        low, high = _key_range(filters)
        if low is not None:
            stmt = stmt.where(self.key >= low)
        if high is not None:
            stmt = stmt.where(self.key < high)
        if any(v is not None for v in (filters.source, filters.status, filters.origin)):
            stmt = _attribute_filters(stmt.join(Article, Article.id == self.article_id), filters)
        return stmt

    def ranked(self, window: sa.Select) -> sa.Select:
        """The ids of the hits ``window`` selects, best first (bm25: lower is better), equal
        scores newest first; only they are scored, and SQLite sorts them."""
        bm25 = sa.func.bm25(sa.literal_column(SEARCH_TABLE), _TITLE_WEIGHT, _BODY_WEIGHT)
        rows = window.add_columns(self.key.label("key"), bm25.label("score")).subquery()
        return sa.select(rows.c.id).order_by(rows.c.score.asc(), rows.c.key.desc())


def matching_ids(dialect: str, q: str) -> sa.Select:
    """``SELECT id`` of every article matching the query ``q`` (any order, unranked), to
    filter other tables by their article. Raises ``SearchQueryError`` for a bad query."""
    return _Index(dialect, parse_query(q)).hits(Filters())


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


def search_records(conn: sa.Connection, q: str | None, filters: Filters, paging: Paging, *,
                   versions: bool = False) -> dict[str, Any]:
    """``{"total", "total_exact", "ranked", "items": [export record + "snippet"], "terms"}``
    for one page of hits; ``ranked`` hits lead in relevance order, the rest follow newest
    first."""
    from govarchive.storage.export import articles_query, records

    found = search_ids(conn, q, filters, paging)
    by_id: dict[int, dict[str, Any]] = {}
    if found.ids:
        rows = conn.execute(articles_query().where(Article.id.in_(found.ids))).all()
        by_id = {record["id"]: record for record in records(conn, rows)}
    items = []
    for article_id in found.ids:
        record = by_id[article_id]
        if not versions:
            del record["versions"]
        record["snippet"] = snippet(record["body_text"], found.terms)
        items.append(record)
    ranked = min(found.total, RANK_WINDOW) if found.terms and paging.sort != "date" else 0
    return {"total": found.total, "total_exact": found.total_exact, "ranked": ranked,
            "items": items, "terms": [t.text for t in found.terms]}
