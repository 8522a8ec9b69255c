"""The change feed: change events and their deliveries to watches.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07

- ``change_events``: every new article, edit, confirmed removal, restoration, delisting and
  move, written in the transaction of the change (an outbox for feeds and notifications).
  Existing archives get their events when ``govarchive replay reparse`` rebuilds them.
- ``deliveries``: one row per (watch, event) owed to a ``[[watches]]`` entry, marked
  delivered only after its channel accepted it.
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "change_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("version_n", sa.Integer(), nullable=True),
        sa.Column("changed", sa.JSON(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("capture_id", sa.Integer(), nullable=True),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("fanned_out_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "kind IN ('new', 'edited', 'removed', 'restored', 'delisted', 'moved')",
            name=op.f("ck_change_events_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["article_id"], ["articles.id"], ondelete="CASCADE",
            name=op.f("fk_change_events_article_id_articles"),
        ),
        sa.ForeignKeyConstraint(
            ["capture_id"], ["captures.id"], name=op.f("fk_change_events_capture_id_captures")
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], ondelete="SET NULL", name=op.f("fk_change_events_run_id_runs")
        ),
        sa.ForeignKeyConstraint(
            ["source_id"], ["sources.id"], name=op.f("fk_change_events_source_id_sources")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_change_events")),
    )
    op.create_index(op.f("ix_change_events_at"), "change_events", ["at"])
    op.create_index(op.f("ix_change_events_source_id_at"), "change_events", ["source_id", "at"])
    op.create_index(op.f("ix_change_events_article_id"), "change_events", ["article_id"])
    op.create_index(op.f("ix_change_events_fanned_out_at"), "change_events", ["fanned_out_at"])
    op.create_table(
        "deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("watch", sa.String(length=100), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'delivered')", name=op.f("ck_deliveries_status")
        ),
        sa.ForeignKeyConstraint(
            ["event_id"], ["change_events.id"], ondelete="CASCADE",
            name=op.f("fk_deliveries_event_id_change_events"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deliveries")),
        sa.UniqueConstraint("watch", "event_id", name=op.f("uq_deliveries_watch_event_id")),
    )
    op.create_index(
        op.f("ix_deliveries_status_next_attempt_at"), "deliveries", ["status", "next_attempt_at"]
    )


def downgrade() -> None:
    op.drop_table("deliveries")
    op.drop_table("change_events")
