"""When the scheduler wanted a run, so the lag before it started shows.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07

- ``runs.scheduled_for``: the moment the service's schedule fired the run; ``started_at``
  minus this is the time it waited for a free slot (``[service] max_concurrent_runs``).
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("scheduled_for", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("scheduled_for")
