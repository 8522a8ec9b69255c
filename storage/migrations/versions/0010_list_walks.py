"""When each section was last walked, and last walked in full (incremental list walks).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07

- ``list_walks``: per source and start URL, the time of the last walk of its list pages whose
  listing was stored, and of the last full walk (``crawler.walk``: a section is walked in full
  every ``full_walk_every``, and only full walks can tell that an article left it). Written
  with each listing, so ``govarchive replay reparse`` rebuilds it; existing archives walk each
  section in full once after the upgrade. ``last_links``: the article links the section's
  first page itself showed in the last walk (none: that page is asked for unconditionally,
  so a page that lost its links keeps failing instead of answering 304, and a shell whose
  list comes from an API, a redirect stub or a hub is always read through). ``last_listed``: the (canonical) URLs
  the last walk listed, as JSON: a link listed before counts as seen by the next until-known
  walk even when no article was stored for it (robots.txt refused it, it answers 404).
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "list_walks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("start_url", sa.Text(), nullable=False),
        sa.Column("last_walk_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_full_walk_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_links", sa.Integer(), nullable=False),
        sa.Column("last_listed", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["source_id"], ["sources.id"], ondelete="CASCADE",
            name=op.f("fk_list_walks_source_id_sources"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_list_walks")),
        sa.UniqueConstraint("source_id", "start_url",
                            name=op.f("uq_list_walks_source_id_start_url")),
    )


def downgrade() -> None:
    op.drop_table("list_walks")
