"""Full-text search: a Chinese-aware index of article titles and bodies.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26

- SQLite: the FTS5 table ``article_search`` (rowid = article id) and a trigger deleting an
  article's entry with the article.
- PostgreSQL: ``article_search(article_id, document tsvector)`` with a GIN index (its rows go
  with their article by ``ON DELETE CASCADE``), and an index for newest-first listing.

Existing articles are indexed here, with the terms of ``storage.search_index.search_row``.
Migration 0005 re-keys the index by publication time.
"""

import sqlalchemy as sa
from alembic import op

from govarchive.storage.search_index import SEARCH_TABLE, search_row
from govarchive.storage.sql import in_chunks

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    conn = op.get_bind()
    postgresql = conn.dialect.name == "postgresql"
    if postgresql:
        op.execute(f"CREATE TABLE {SEARCH_TABLE} (article_id integer PRIMARY KEY "
                   "REFERENCES articles (id) ON DELETE CASCADE, document tsvector NOT NULL)")
        op.execute(f"CREATE INDEX ix_{SEARCH_TABLE}_document ON {SEARCH_TABLE} USING gin (document)")
        # Newest-first listing without a query: PostgreSQL sorts NULLs first in DESC order.
        op.execute("CREATE INDEX ix_articles_published_desc ON articles "
                   "(published_utc DESC NULLS LAST, id DESC)")
        insert = sa.text(f"INSERT INTO {SEARCH_TABLE} (article_id, document) "
                         "VALUES (:article_id, CAST(:document AS tsvector))")
    else:
        op.execute(f"CREATE VIRTUAL TABLE {SEARCH_TABLE} USING fts5(title, body, tokenize = 'ascii')")
        op.execute(f"CREATE TRIGGER {SEARCH_TABLE}_delete AFTER DELETE ON articles BEGIN "
                   f"DELETE FROM {SEARCH_TABLE} WHERE rowid = old.id; END")
        insert = sa.text(f"INSERT INTO {SEARCH_TABLE} (rowid, title, body) "
                         "VALUES (:rowid, :title, :body)")
    rows = conn.execute(sa.text("SELECT id, title, body_text FROM articles ORDER BY id")).all()
    for chunk in in_chunks(rows):
        conn.execute(insert, [search_row(conn.dialect.name, *row) for row in chunk])


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_articles_published_desc")
    else:
        op.execute(f"DROP TRIGGER IF EXISTS {SEARCH_TABLE}_delete")
    op.execute(f"DROP TABLE IF EXISTS {SEARCH_TABLE}")
