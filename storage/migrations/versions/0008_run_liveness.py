"""Run liveness: who runs a run and when it last said it was alive.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-08

- ``runs.pid``, ``runs.pid_started_at``, ``runs.node``: the process crawling the run, when
  that process started (so a reused pid is not taken for it) and its host.
- ``runs.heartbeat_at``: updated by the crawling process every few seconds; a run whose
  process is gone, or whose heartbeat is too old, is closed as ``failed`` ("process died").
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("pid", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("pid_started_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("node", sa.String(length=255), nullable=True))
        batch.add_column(sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("heartbeat_at")
        batch.drop_column("node")
        batch.drop_column("pid_started_at")
        batch.drop_column("pid")
