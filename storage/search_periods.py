"""Searching on PostgreSQL: the newest hits of a query, read a few months at a time.

A GIN index answers "which documents contain these terms" as a set, in no useful order: to
find the newest hits of a word, PostgreSQL would fetch every hit's row to read its date, and
a common word's hits grow with the archive. So every document also carries
its publication month and year as index terms (``~202403``, ``~2024``: no query can produce
them, as ``~`` is never part of a word), and the newest hits are read newest months first:
``(query) & ('~2026' | '~202501' | ...)`` is answered inside the GIN index, and only the
hits of the months read are fetched. Each step reads as many more months as the hit rate so
far says are needed. SQLite needs none of this: its index is in date order already
(``storage.search_index.sort_key``).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from govarchive.storage.search_index import first_key, key_time

# A step reads this much more than the hit rate so far says it needs, so that one more
# step is rarely needed; and this many months when it found nothing yet.
_MARGIN = 1.25
_FIRST_MONTHS = 1


def _month(key: int) -> int:
    when = key_time(key)  # of a dated key
    return when.year * 12 + when.month - 1


def periods_tsquery(first: int, last: int) -> str:
    """``'~YYYY' | '~YYYYMM' | ...`` covering months ``first..last`` (year*12 + month-1):
    whole years by their year term, the months at either end by theirs."""
    terms, month = [], first
    while month <= last:
        year = month // 12
        if month % 12 == 0 and month + 11 <= last:
            terms.append(f"'~{year:04d}'")
            month += 12
        else:
            terms.append(f"'~{year:04d}{month % 12 + 1:02d}'")
            month += 1
    return " | ".join(terms)


def postgresql_page(
    conn: sa.Connection, hits: sa.Select, table: sa.TableClause, query: sa.ColumnElement,
    key_range: tuple[int | None, int | None], *, limit: int, offset: int, by_date: bool,
    window: int, count_cap: int | None,
) -> tuple[int, list[int]]:
    """``storage.search.search_ids`` on PostgreSQL: (hits counted up to ``count_cap + 1``,
    or all of them without a cap; the page's article ids). The newest ``window`` hits are
    ranked by ``ts_rank`` (equal scores newest first), further hits follow newest first;
    ``by_date``: all newest first."""
    need = offset + limit if by_date else max(window, offset + limit)
    score = sa.func.ts_rank(table.c.document, query)
    newest, counted = newest_hits(conn, hits, table, key_range, need, count_cap or 0,
                                  score=None if by_date else score)
    if count_cap is None and counted > need:
        counted = conn.execute(sa.select(sa.func.count()).select_from(hits.subquery())).scalar_one()
    if by_date:
        return counted, [hit.id for hit in newest[offset : offset + limit]]
    ranked = newest[:window]
    ids: list[int] = []
    if offset < len(ranked):
        if ranked[0].score is None:  # read in one go, unscored: score them now
            ranked_ids = sa.bindparam("ranked", [hit.id for hit in ranked],
                                      type_=postgresql.ARRAY(sa.Integer))
            scored = sa.select(table.c.article_id, score).where(
                table.c.article_id == sa.any_(ranked_ids))
            scores = dict(conn.execute(scored).all())
            ranked = [hit._replace(score=scores[hit.id]) for hit in ranked]
        ranked.sort(key=lambda hit: (-hit.score, -hit.key))
        ids += [hit.id for hit in ranked[offset : offset + limit]]
    # Past the ranked window the hits go on newest first.
    ids += [hit.id for hit in newest[max(offset, window) : offset + limit]]
    return counted, ids


class Hit(NamedTuple):
    id: int
    key: int
    score: float | None  # when asked for


def newest_hits(
    conn: sa.Connection, hits: sa.Select, table: sa.TableClause,
    key_range: tuple[int | None, int | None], need: int, count_cap: int,
    score: sa.ColumnElement | None = None,
) -> tuple[list[Hit], int]:
    """The newest ``need`` rows of ``hits`` (or all of them, when fewer), newest first, and
    how many rows ``hits`` has, counted up to ``count_cap + 1``. ``hits`` selects ``id``
    from the search ``table`` (with its ``document`` and ``sort_key``); ``key_range`` is the
    date filter's, if any. ``score`` (say ``ts_rank``) is worked out for the rows the
    months' reads fetch anyway; the rows of the first read come without it."""
    key = table.c.sort_key
    keyed = hits.add_columns(key.label("key"), sa.null().label("score"))
    # Most words have fewer hits than that: then one read, in any order, has them all.
    first_read = max(need, count_cap) + 1
    rows = conn.execute(keyed.limit(first_read)).all()
    if len(rows) < first_read:
        return _newest_first(rows)[:need], len(rows)
    if score is not None:
        keyed = hits.add_columns(key.label("key"), score.label("score"))
    low, high = key_range
    bounds = sa.select(sa.func.min(key), sa.func.max(key)).where(key >= (low or first_key()))
    if high is not None:
        bounds = bounds.where(key < high)
    oldest, newest = conn.execute(bounds).one()
    found: list[Hit] = []
    if newest is not None:
        first, last, step = _month(oldest), _month(newest), _FIRST_MONTHS
        while last >= first and len(found) < need:
            start = max(first, last - step + 1)
            in_months = table.c.document.op("@@")(
                sa.text("CAST(:periods AS tsquery)").bindparams(periods=periods_tsquery(start, last)))
            rows = conn.execute(keyed.where(in_months)).all()
            found += _newest_first(rows)
            rate = len(rows) / (last - start + 1)
            step = (math.ceil((need - len(found)) / rate * _MARGIN) if rate else step * 8)
            last = start - 1
    if len(found) < need and low is None and high is None:
        # Undated articles come last in the index's order, as in the article list.
        undated = keyed.where(key < first_key())
        found += _newest_first(conn.execute(undated.order_by(key.desc()).limit(need - len(found))))
    return found[:need], first_read


def _newest_first(rows) -> list[Hit]:
    return sorted((Hit(row.id, row.key, row.score) for row in rows), key=lambda hit: -hit.key)
