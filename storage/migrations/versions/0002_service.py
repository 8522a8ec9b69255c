"""The scheduler service: run logs, scheduled runs, and the APScheduler job table.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26

- ``runs.log_path``: the run's log file (the service writes one per run).
- ``runs.scheduled``: true for runs the service started; only those can be left ``running``
  by a service crash and closed as ``failed`` when the next scheduler takes over (a manual
  ``govarchive crawl`` may be running at that moment and must be left alone).
- ``scheduler_jobs``: APScheduler 3's SQLAlchemyJobStore table (its own column layout), made
  here so ``govarchive init`` creates every table and the service needs no CREATE right.
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("log_path", sa.Text(), nullable=True))
        batch.add_column(
            sa.Column("scheduled", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.create_index("ix_runs_status_scheduled", "runs", ["status", "scheduled"], unique=False)
    op.create_table(
        "scheduler_jobs",
        sa.Column("id", sa.Unicode(length=191), nullable=False),
        sa.Column("next_run_time", sa.Float(precision=25), nullable=True),
        sa.Column("job_state", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scheduler_jobs")),
    )
    op.create_index(
        "ix_scheduler_jobs_next_run_time", "scheduler_jobs", ["next_run_time"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_scheduler_jobs_next_run_time", table_name="scheduler_jobs")
    op.drop_table("scheduler_jobs")
    op.drop_index("ix_runs_status_scheduled", table_name="runs")
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("scheduled")
        batch.drop_column("log_path")
