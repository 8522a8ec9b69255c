"""The full-text index of article titles and bodies: its terms, its schema, keeping it in step.

Chinese has no spaces between words and no stemmer we can rely on, so text is indexed as
overlapping character bigrams ("防汛工作" -> 防汛 汛工 工作 作): every 2-character word is one
index term, longer words are phrases of bigrams, and the trailing single character of each
run lets one-character queries work as prefix queries. Latin letters and digits are indexed
as lower-cased words. Tokens are made here, in Python, so both backends index exactly the
same terms:

- SQLite: an FTS5 table (``article_search``) over the space-separated tokens, with the
  ``ascii`` tokenizer (it keeps every non-ASCII character inside tokens).
- PostgreSQL: a ``tsvector`` per article written as a literal (no text-search parser or
  locale involved), title lexemes weighted A and body lexemes B, in a GIN index.

The index follows ``storage.ingest`` (``index_rows`` for every article whose content it
wrote) and deletions of articles (a trigger on SQLite, a cascading foreign key on
PostgreSQL), so ``replay reparse`` rebuilds it as it rebuilds the articles. Querying it is
``storage.search``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

import sqlalchemy as sa

from storage.models import Article

SEARCH_TABLE = "article_search"
INDEX_CHUNK = 500
# Bodies longer than this are indexed up to here (PostgreSQL keeps positions only up to
# 16383 and caps a tsvector at 1 MB; no news article comes close).
MAX_INDEXED_CHARS = 16_000
# Title and body positions are kept apart so a phrase never matches across the two.
_BODY_OFFSET = 64


def is_cjk(char: str) -> bool:
    return not char.isascii()


def normalise(text: str) -> str:
    """NFKC (full-width letters and digits to ASCII) and case-folded."""
    return unicodedata.normalize("NFKC", text).casefold()


def runs(text: str) -> list[str]:
    """Runs of word characters: ASCII words, and runs of non-ASCII letters (CJK)."""
    out = []
    for match in re.finditer(r"\w+", normalise(text)):
        word = match.group().replace("_", "")
        # Split "gdp增长2024" into gdp / 增长 / 2024: bigrams only make sense inside CJK runs.
        out.extend(piece for piece in re.findall(r"[0-9a-z]+|[^0-9a-z]+", word) if piece)
    return out


def tokens(text: str | None, *, trailing: bool = True) -> list[str]:
    """Index terms of ``text``: CJK bigrams (plus each run's last character when
    ``trailing``) and lower-cased ASCII words."""
    out: list[str] = []
    for run in runs(text or ""):
        if not is_cjk(run[0]):
            out.append(run)
            continue
        out.extend(run[i : i + 2] for i in range(len(run) - 1))
        if trailing or len(run) == 1:
            out.append(run[-1])
    return out


# -- the index ----------------------------------------------------------------------------


def _tsvector_literal(title: str | None, body: str | None) -> str:
    """``'lexeme':1A,5A 'other':70B ...``: tokens only hold word characters, so no quoting
    beyond the enclosing quotes is needed."""
    title_tokens = tokens((title or "")[:MAX_INDEXED_CHARS])
    body_tokens = tokens((body or "")[:MAX_INDEXED_CHARS])
    body_start = 1 + len(title_tokens) + _BODY_OFFSET
    positions: dict[str, list[str]] = {}
    for start, weight, items in ((1, "A", title_tokens), (body_start, "B", body_tokens)):
        for i, token in enumerate(items):
            positions.setdefault(token, []).append(f"{min(start + i, 16383)}{weight}")
    return " ".join(f"'{token}':{','.join(where)}" for token, where in positions.items())


def search_row(dialect: str, article_id: int, title: str | None, body: str | None) -> dict:
    """One row of the search table for an article (as bulk loaders insert it)."""
    if dialect == "postgresql":
        return {"article_id": article_id, "document": _tsvector_literal(title, body)}
    body_tokens = tokens((body or "")[:MAX_INDEXED_CHARS])
    return {"rowid": article_id, "title": " ".join(tokens(title)), "body": " ".join(body_tokens)}


def insert_rows_sql(dialect: str) -> sa.TextClause:
    if dialect == "postgresql":
        return sa.text(
            f"INSERT INTO {SEARCH_TABLE} (article_id, document) "
            "VALUES (:article_id, CAST(:document AS tsvector)) "
            "ON CONFLICT (article_id) DO UPDATE SET document = EXCLUDED.document"
        )
    return sa.text(
        f"INSERT INTO {SEARCH_TABLE} (rowid, title, body) VALUES (:rowid, :title, :body)"
    )


def index_rows(conn: sa.Connection, rows: Iterable[tuple[int, str | None, str | None]]) -> None:
    """(Re)index articles from ``(id, title, body_text)`` as they now stand in ``articles``
    (ingest has them at hand; there is no need to read them back)."""
    rows = list(rows)
    dialect = conn.dialect.name
    for start in range(0, len(rows), INDEX_CHUNK):
        chunk = rows[start : start + INDEX_CHUNK]
        if dialect != "postgresql":
            # FTS5 has no upsert: replace the old entries.
            ids = ",".join(str(int(row[0])) for row in chunk)
            conn.execute(sa.text(f"DELETE FROM {SEARCH_TABLE} WHERE rowid IN ({ids})"))
        conn.execute(insert_rows_sql(dialect), [search_row(dialect, *row) for row in chunk])


def index_articles(conn: sa.Connection, article_ids: Iterable[int]) -> None:
    """(Re)index these articles' current title and body, read from ``articles``."""
    ids = sorted(set(article_ids))
    for start in range(0, len(ids), INDEX_CHUNK):
        chunk = ids[start : start + INDEX_CHUNK]
        index_rows(
            conn,
            conn.execute(
                sa.select(Article.id, Article.title, Article.body_text).where(Article.id.in_(chunk))
            ).all(),
        )


def rebuild(conn: sa.Connection) -> int:
    """Index every article afresh; returns how many."""
    conn.execute(sa.text(f"DELETE FROM {SEARCH_TABLE}"))
    ids = list(conn.execute(sa.select(Article.id).order_by(Article.id)).scalars())
    index_articles(conn, ids)
    return len(ids)


def create_index_schema(conn: sa.Connection) -> None:
    """The search table (and what keeps it in step with deletions); migration 0004."""
    if conn.dialect.name == "postgresql":
        conn.execute(
            sa.text(
                f"CREATE TABLE {SEARCH_TABLE} (article_id integer PRIMARY KEY "
                "REFERENCES articles (id) ON DELETE CASCADE, document tsvector NOT NULL)"
            )
        )
        conn.execute(
            sa.text(
                f"CREATE INDEX ix_{SEARCH_TABLE}_document ON {SEARCH_TABLE} USING gin (document)"
            )
        )
        # Newest-first listing without a query: PostgreSQL sorts NULLs first in DESC order.
        conn.execute(
            sa.text(
                "CREATE INDEX ix_articles_published_desc ON articles "
                "(published_utc DESC NULLS LAST, id DESC)"
            )
        )
        return
    conn.execute(
        sa.text(f"CREATE VIRTUAL TABLE {SEARCH_TABLE} USING fts5(title, body, tokenize = 'ascii')")
    )
    conn.execute(
        sa.text(
            f"CREATE TRIGGER {SEARCH_TABLE}_delete AFTER DELETE ON articles BEGIN "
            f"DELETE FROM {SEARCH_TABLE} WHERE rowid = old.id; END"
        )
    )


def drop_index_schema(conn: sa.Connection) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("DROP INDEX IF EXISTS ix_articles_published_desc"))
    else:
        conn.execute(sa.text(f"DROP TRIGGER IF EXISTS {SEARCH_TABLE}_delete"))
    conn.execute(sa.text(f"DROP TABLE IF EXISTS {SEARCH_TABLE}"))
