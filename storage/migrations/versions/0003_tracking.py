"""Change tracking: status events, URL aliases, near-duplicate index, shrink guard, reverts.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26

- ``article_events``: timestamped gone/removed/restored/delisted/relisted/blocked events.
- ``url_aliases``: fetched URL spellings and the canonical URL they stand for.
- ``dedup_signatures`` / ``dedup_bands`` / ``article_duplicates``: MinHash signatures, LSH
  band keys and near-duplicate links.
- ``articles``: ``fetch_url`` and ``last_capture_id`` (where and by which
  capture it was last fetched successfully), ``pending_hash``/``pending_capture_id`` (a shrunken body awaiting a second
  fetch), ``section_url``/``delisted_at`` (list-page presence), an index on ``content_hash``
  (cross-posts are found by it).
- ``article_versions.revert_of``: the version an A->B->A revert undoes.
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

EVENT_KINDS = "'gone', 'removed', 'restored', 'delisted', 'relisted', 'blocked'"


def upgrade() -> None:
    with op.batch_alter_table("articles") as batch:
        batch.add_column(sa.Column("pending_hash", sa.String(length=80), nullable=True))
        batch.add_column(sa.Column("pending_capture_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("fetch_url", sa.Text(), nullable=True))
        batch.add_column(sa.Column("last_capture_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_articles_last_capture_id_captures"), "captures",
            ["last_capture_id"], ["id"],
        )
        batch.add_column(sa.Column("section_url", sa.Text(), nullable=True))
        batch.add_column(sa.Column("delisted_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_foreign_key(
            op.f("fk_articles_pending_capture_id_captures"), "captures",
            ["pending_capture_id"], ["id"],
        )
        batch.create_index(op.f("ix_articles_content_hash"), ["content_hash"], unique=False)
    op.execute("UPDATE articles SET fetch_url = url")
    with op.batch_alter_table("article_versions") as batch:
        batch.add_column(sa.Column("revert_of", sa.Integer(), nullable=True))
    op.create_table(
        "article_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("capture_id", sa.Integer(), nullable=True),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.CheckConstraint(f"kind IN ({EVENT_KINDS})", name=op.f("ck_article_events_kind")),
        sa.ForeignKeyConstraint(
            ["article_id"], ["articles.id"], ondelete="CASCADE",
            name=op.f("fk_article_events_article_id_articles"),
        ),
        sa.ForeignKeyConstraint(
            ["capture_id"], ["captures.id"], name=op.f("fk_article_events_capture_id_captures")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_article_events")),
    )
    op.create_index(
        op.f("ix_article_events_article_id_at"), "article_events", ["article_id", "at"]
    )
    op.create_table(
        "url_aliases",
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("canonical", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("url", name=op.f("pk_url_aliases")),
    )
    op.create_index(op.f("ix_url_aliases_canonical"), "url_aliases", ["canonical"])
    op.create_table(
        "dedup_signatures",
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("signature", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"], ["articles.id"], ondelete="CASCADE",
            name=op.f("fk_dedup_signatures_article_id_articles"),
        ),
        sa.PrimaryKeyConstraint("article_id", name=op.f("pk_dedup_signatures")),
    )
    op.create_table(
        "dedup_bands",
        sa.Column("band_key", sa.String(length=40), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"], ["articles.id"], ondelete="CASCADE",
            name=op.f("fk_dedup_bands_article_id_articles"),
        ),
        sa.PrimaryKeyConstraint("band_key", "article_id", name=op.f("pk_dedup_bands")),
    )
    op.create_index(op.f("ix_dedup_bands_article_id"), "dedup_bands", ["article_id"])
    op.create_table(
        "article_duplicates",
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("duplicate_id", sa.Integer(), nullable=False),
        sa.Column("similarity", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"], ["articles.id"], ondelete="CASCADE",
            name=op.f("fk_article_duplicates_article_id_articles"),
        ),
        sa.ForeignKeyConstraint(
            ["duplicate_id"], ["articles.id"], ondelete="CASCADE",
            name=op.f("fk_article_duplicates_duplicate_id_articles"),
        ),
        sa.PrimaryKeyConstraint("article_id", "duplicate_id", name=op.f("pk_article_duplicates")),
    )
    op.create_index(
        op.f("ix_article_duplicates_duplicate_id"), "article_duplicates", ["duplicate_id"]
    )


def downgrade() -> None:
    op.drop_table("article_duplicates")
    op.drop_table("dedup_bands")
    op.drop_table("dedup_signatures")
    op.drop_table("url_aliases")
    op.drop_table("article_events")
    with op.batch_alter_table("article_versions") as batch:
        batch.drop_column("revert_of")
    with op.batch_alter_table("articles") as batch:
        batch.drop_index(op.f("ix_articles_content_hash"))
        batch.drop_constraint(op.f("fk_articles_pending_capture_id_captures"), type_="foreignkey")
        batch.drop_column("delisted_at")
        batch.drop_column("section_url")
        batch.drop_constraint(op.f("fk_articles_last_capture_id_captures"), type_="foreignkey")
        batch.drop_column("last_capture_id")
        batch.drop_column("fetch_url")
        batch.drop_column("pending_capture_id")
        batch.drop_column("pending_hash")
