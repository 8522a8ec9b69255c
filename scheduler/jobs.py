"""One APScheduler job per scheduled source, kept in the database and reconciled with the
configuration on start and on SIGHUP.

Jobs live in a persistent job store, so a job names its function by reference
(``scheduler.jobs:run_scheduled``) and its source by name; the running service registers the
coroutine that does the work with :func:`set_run_handler`.
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from apscheduler.jobstores.base import JobLookupError
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

log = logging.getLogger(__name__)

JOB_PREFIX = "source:"
# Spread "every N" schedules ([service] spread_schedules) are counted from this moment plus a
# per-source offset, so their times survive restarts.
SPREAD_ANCHOR = datetime(2026, 1, 1, tzinfo=UTC)

_run_handler: Callable[[str], Awaitable[None]] | None = None


def set_run_handler(handler: Callable[[str], Awaitable[None]] | None) -> None:
    global _run_handler
    _run_handler = handler


async def run_scheduled(source_name: str) -> None:
    """The job function: awaited to the end of the run, so ``max_instances=1`` means that a
    source's runs never overlap."""
    if _run_handler is None:
        raise RuntimeError("no service is running to start the run")
    await _run_handler(source_name)


def job_id(source_name: str) -> str:
    return JOB_PREFIX + source_name


def job_label(source, spread: bool = False) -> str:
    """The job's name; it also tells reconciliation whether the schedule changed."""
    label = f"{source.name}: {source.schedule} ({source.timezone})"
    if spread and source.schedule_interval is not None:
        offset = spread_offset(source.name, source.schedule_interval)
        label += f" +{int(offset.total_seconds())}s"
    return label


def spread_offset(name: str, interval: timedelta) -> timedelta:
    """A source's fixed offset within its interval, drawn from its name: sources sharing an
    "every N" schedule fall due one after another across the interval, not all at once."""
    seconds = int(interval.total_seconds())
    return timedelta(seconds=zlib.crc32(name.encode("utf-8")) % seconds if seconds > 1 else 0)


def build_trigger(source, spread: bool = False) -> BaseTrigger:
    """The source's trigger: "every N" from now (or, ``spread``, at its fixed offset within
    the interval), or its cron line; cron schedules always fire as written."""
    interval = source.schedule_interval
    if interval is not None:
        start = SPREAD_ANCHOR + spread_offset(source.name, interval) if spread else None
        return IntervalTrigger(seconds=interval.total_seconds(), start_date=start,
                               timezone=source.timezone)
    return CronTrigger.from_crontab(source.schedule, timezone=source.timezone)


@dataclass
class JobOptions:
    misfire_grace_time: float
    coalesce: bool = True
    max_instances: int = 1
    spread: bool = False  # [service] spread_schedules: not an APScheduler job option


    def as_kwargs(self) -> dict:
        return {
            "misfire_grace_time": int(self.misfire_grace_time),
            "coalesce": self.coalesce,
            "max_instances": self.max_instances,
        }


@dataclass
class Reconciled:
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    def summary(self) -> str:
        parts = [
            f"{label} {', '.join(names)}"
            for label, names in (
                ("added", self.added),
                ("changed", self.changed),
                ("removed", self.removed),
                ("unchanged", self.unchanged),
            )
            if names
        ]
        return "; ".join(parts) or "no scheduled sources"


def reconcile(
    scheduler, sources: Iterable, options: JobOptions, *, now: datetime | None = None
) -> Reconciled:
    """Make the scheduler's jobs match the sources that have a schedule.

    An unchanged job is left alone, so a run it was owed while the service was down (its
    stored next run time is past) still happens. A changed job keeps such an owed run too;
    otherwise its next run comes from the new schedule.
    """
    now = now or datetime.now(UTC)
    wanted = {job_id(s.name): s for s in sources if s.schedule}
    result = Reconciled()
    existing = {job.id: job for job in scheduler.get_jobs() if job.id.startswith(JOB_PREFIX)}
    for jid in sorted(set(existing) - set(wanted)):
        try:
            scheduler.remove_job(jid)
        except JobLookupError:
            continue  # removed meanwhile
        result.removed.append(jid[len(JOB_PREFIX) :])
    for jid, source in wanted.items():
        job = existing.get(jid)
        if job is None:
            scheduler.add_job(
                run_scheduled,
                trigger=build_trigger(source, options.spread),
                id=jid,
                name=job_label(source, options.spread),
                args=[source.name],
                replace_existing=True,
                **options.as_kwargs(),
            )
            result.added.append(source.name)
            continue
        changes = {
            key: value
            for key, value in options.as_kwargs().items()
            if getattr(job, key) != value
        }
        if job.name != job_label(source, options.spread):
            trigger = build_trigger(source, options.spread)
            owed = job.next_run_time is not None and job.next_run_time <= now
            changes.update(
                name=job_label(source, options.spread),
                trigger=trigger,
                next_run_time=job.next_run_time if owed else trigger.get_next_fire_time(None, now),
            )
            result.changed.append(source.name)
        else:
            result.unchanged.append(source.name)
        if changes:
            scheduler.modify_job(jid, **changes)
    return result


def next_runs(scheduler) -> dict[str, datetime | None]:
    """Each scheduled source's next run time (None while paused)."""
    return {
        job.id[len(JOB_PREFIX) :]: job.next_run_time
        for job in scheduler.get_jobs()
        if job.id.startswith(JOB_PREFIX)
    }
