"""Scheduled jobs name their function in the govarchive namespace.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07

APScheduler keeps each job's function as a text reference inside the pickled job state. The
packages moved from ``scheduler`` to ``govarchive.scheduler``, so a job stored before the move
names ``scheduler.jobs:run_scheduled``, which APScheduler could no longer import: it would log
a traceback and drop the job, and with it a run the source was owed. The references are
rewritten in place; nothing else in the state changes.
"""

import pickle

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

OLD_PREFIX = "scheduler.jobs:"
NEW_PREFIX = "govarchive.scheduler.jobs:"


def _rewrite(old: str, new: str) -> None:
    jobs = sa.table("scheduler_jobs", sa.column("id"), sa.column("job_state", sa.LargeBinary))
    connection = op.get_bind()
    for job_id, blob in connection.execute(sa.select(jobs.c.id, jobs.c.job_state)).all():
        state = pickle.loads(blob)
        func = state.get("func")
        if isinstance(func, str) and func.startswith(old):
            state["func"] = new + func[len(old) :]
            connection.execute(
                jobs.update()
                .where(jobs.c.id == job_id)
                .values(job_state=pickle.dumps(state, pickle.HIGHEST_PROTOCOL))
            )


def upgrade() -> None:
    _rewrite(OLD_PREFIX, NEW_PREFIX)


def downgrade() -> None:
    _rewrite(NEW_PREFIX, OLD_PREFIX)
