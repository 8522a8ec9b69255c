"""Full-text search: a Chinese-aware index of article titles and bodies.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26

- SQLite: the FTS5 table ``article_search`` (rowid = article id) and a trigger deleting an
  article's entry with the article.
- PostgreSQL: ``article_search(article_id, document tsvector)`` with a GIN index (its rows go
  with their article by ``ON DELETE CASCADE``), and an index for newest-first listing.

Existing articles are indexed here. The table's DDL and the tokenizer live in
``storage.search`` (the index is derived data: a later tokenizer change rebuilds it there).
"""

from alembic import op

from storage import search_index as search

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    conn = op.get_bind()
    search.create_index_schema(conn)
    search.rebuild(conn)


def downgrade() -> None:
    search.drop_index_schema(op.get_bind())
