"""Alerts: a run ended ``failed``, ``timeout`` or ``blocked``, or a source had
``no_links_alert_after`` runs in a row whose list pages gave no article links (a layout
change; one such run alone may be a glitch, and a run that found nothing new is no alert at
all: a quiet night). Each alert is logged and, when ``webhook_url`` is
set, POSTed there as JSON by a background worker: retried with backoff, never awaited by the
scheduler, and dropped (oldest first, with a log line) if the queue fills up.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)

ALERT_STATUSES = ("failed", "timeout", "blocked")
# How a run's error starts when a section's list pages gave no article link: the words of
# crawler.run.NO_LINKS (the scheduler imports nothing of the crawler's).
NO_LINKS = "no article links found on"
QUEUE_SIZE = 100
MAX_BACKOFF = 60.0


@dataclass
class Alert:
    event: str  # "run_failed" | "run_timeout" | "run_blocked" | "runs_no_links"
    source: str
    message: str
    run: dict

    def payload(self, host: str) -> dict:
        return {
            "event": self.event,
            "source": self.source,
            "message": self.message,
            "host": host,
            "run": self.run,
        }


def no_links(status: str, error: str | None) -> bool:
    """Whether a run failed because a section's list pages gave no article link."""
    return status == "failed" and (error or "").startswith(NO_LINKS)


def alert_for(source: str, run: dict, recent: Callable[[int], list[tuple[str, str | None]]],
              no_links_after: int):
    """The alert a finished run calls for, if any. ``recent(n)`` gives the source's latest
    ``n`` finished runs as (status, error), newest first (this run included)."""
    status = run["status"]
    if no_links(status, run.get("error")):
        if no_links_after <= 0:
            return None
        streak = 0
        for previous in recent(no_links_after + 1):
            if not no_links(*previous):
                break
            streak += 1
        # Once per streak: when it reaches the threshold, not on every run after.
        if streak != no_links_after:
            return None
        message = (
            f"{source}: {streak} runs in a row found no article links (the section moved or "
            f"changed its layout), last run {run['id']}: {run['error']}"
        )
        return Alert("runs_no_links", source, message, run)
    if status in ALERT_STATUSES:
        detail = f": {run['error']}" if run.get("error") else ""
        return Alert(f"run_{status}", source, f"run {run['id']} of {source} {status}{detail}", run)
    return None


class Webhook:
    """Delivers alert payloads to one URL from a queue, one at a time."""

    def __init__(self, url: str, *, timeout: float, retries: int, backoff: float = 1.0,
                 user_agent: str = "govarchive"):
        self.url, self.timeout, self.retries, self.backoff = url, timeout, retries, backoff
        self.user_agent = user_agent
        self.delivered = 0
        self.failed = 0
        self.dropped = 0
        self._queue: asyncio.Queue[dict] = asyncio.Queue(QUEUE_SIZE)
        self._worker: asyncio.Task | None = None

    def start(self) -> None:
        if self._worker is None:
            self._worker = asyncio.create_task(self._deliver_forever(), name="webhook")

    def post(self, payload: dict) -> None:
        """Queue a payload and return at once."""
        if self._queue.full():
            oldest = self._queue.get_nowait()
            self._queue.task_done()
            self.dropped += 1
            log.error("webhook queue full: dropped the alert %r", oldest.get("message"))
        self._queue.put_nowait(payload)

    async def aclose(self, timeout: float) -> None:
        """Give queued alerts up to ``timeout`` seconds, then stop."""
        if self._worker is None:
            return
        try:
            await asyncio.wait_for(self._queue.join(), timeout)
        except TimeoutError:
            log.warning("webhook: %d alert(s) not delivered at shutdown", self._queue.qsize())
        self._worker.cancel()
        try:
            await self._worker
        except asyncio.CancelledError:
            pass
        self._worker = None

    async def _deliver_forever(self) -> None:
        while True:
            payload = await self._queue.get()
            try:
                await self._deliver(payload)
            finally:
                self._queue.task_done()

    async def _deliver(self, payload: dict) -> None:
        body = json.dumps(payload, ensure_ascii=False, default=str).encode("utf-8")
        for attempt in range(self.retries + 1):
            try:
                await asyncio.to_thread(self._send, body)
            except (OSError, urllib.error.URLError) as exc:
                if attempt == self.retries:
                    self.failed += 1
                    log.error("webhook %s failed %d time(s), giving up: %s", self.url,
                              attempt + 1, exc)
                    return
                delay = min(self.backoff * 2**attempt, MAX_BACKOFF)
                log.warning("webhook %s failed (%s); retrying in %.1f s", self.url, exc, delay)
                await asyncio.sleep(delay)
            else:
                self.delivered += 1
                return

    def _send(self, body: bytes) -> None:
        request = urllib.request.Request(
            self.url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "User-Agent": self.user_agent,
            },
        )
        # urlopen raises HTTPError (an OSError) for 4xx/5xx answers.
        with urllib.request.urlopen(request, timeout=self.timeout) as response:
            response.read()


class Alerter:
    """Decides on alerts after each run, logs them and hands them to the webhook."""

    def __init__(self, service_settings, store, *, user_agent: str = "govarchive"):
        self.settings = service_settings
        self.store = store
        self.user_agent = user_agent
        self.host = socket.gethostname()
        self.sent = 0
        self.webhook: Webhook | None = None
        self._configure_webhook()

    def reconfigure(self, service_settings) -> None:
        """After a reload; a changed webhook applies to alerts from now on."""
        self.settings = service_settings
        if self.webhook is None or self.webhook.url != service_settings.webhook_url:
            old, self.webhook = self.webhook, None
            self._configure_webhook()
            if old is not None:
                asyncio.get_running_loop().create_task(old.aclose(self.settings.webhook_timeout))
        if self.webhook is not None:
            self.webhook.start()

    def _configure_webhook(self) -> None:
        if self.settings.webhook_url:
            self.webhook = Webhook(
                self.settings.webhook_url,
                timeout=self.settings.webhook_timeout,
                retries=self.settings.webhook_retries,
                user_agent=self.user_agent,
            )

    def start(self) -> None:
        if self.webhook is not None:
            self.webhook.start()

    async def after_run(self, source: str, run: dict) -> Alert | None:
        no_links_after = self.settings.no_links_alert_after

        def recent(limit: int) -> list[tuple[str, str | None]]:
            return self.store.recent_runs(source, limit)

        alert = await asyncio.to_thread(alert_for, source, run, recent, no_links_after)
        if alert is None:
            return None
        self.sent += 1
        log.warning("ALERT %s: %s", alert.event, alert.message)
        if self.webhook is not None:
            self.webhook.post(alert.payload(self.host))
        return alert

    async def aclose(self, timeout: float) -> None:
        if self.webhook is not None:
            await self.webhook.aclose(timeout)
