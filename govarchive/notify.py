"""Notifications: change events delivered to each ``[[watches]]`` entry's channels.

One round (``deliver_due``): fan the new change events out to the watches (the storage
outbox, ``Store.deliveries``), then for each watch send what is due — one message per event,
or one per ``digest`` period — through its Apprise URLs and its JSON webhook. A delivery is
marked delivered only after every channel of the watch took the message; a failure is
recorded and retried with backoff, never dropped.

At least once: a process killed after a channel took a message and before the delivery was
marked sends that message again on the next round (one duplicate per crash at most; each
message is marked as soon as it is sent). The channels of one watch are retried together, so
a channel that took a message may get it again when another channel of the watch failed.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from govarchive import __version__
from govarchive.times import local_text

log = logging.getLogger(__name__)

KIND_LABELS = {"new": "新增", "edited": "修改", "removed": "删除", "restored": "恢复",
               "delisted": "移出列表", "moved": "迁移"}
WEBHOOK_TIMEOUT = 10.0
# Events in one digest message at most (a backlog is sent in several).
DIGEST_MAX_EVENTS = 100
USER_AGENT = f"govarchive/{__version__} (notifications)"


class ChannelError(Exception):
    """A channel did not take a message; the text says which and why."""


@dataclass
class DeliveryReport:
    """What one round did: messages sent, deliveries marked, and (watch, error) failures."""

    fanned_out: int = 0
    messages: int = 0
    delivered: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)


def watch_filters(watches: Sequence[Any]) -> list[Any]:
    """The settings' watches as the plain data storage matches events with."""
    from govarchive.storage import WatchFilter

    return [WatchFilter(name=w.name, kinds=tuple(w.kinds), query=w.query,
                        sources=None if w.sources is None else tuple(w.sources))
            for w in watches]


def deliver_due(settings, store, *, now: Callable[[], datetime] | None = None,
                send: Callable[..., None] | None = None) -> DeliveryReport:
    """Fan out new events and deliver what is due to every configured watch.

    ``now`` is the clock (tests move it instead of sleeping); ``send(watch, events,
    base_url)`` sends one message (default: ``send_message``)."""
    clock = now or (lambda: datetime.now(UTC))
    send = send or send_message
    report = DeliveryReport()
    report.fanned_out = store.deliveries.fan_out(watch_filters(settings.watches), now=clock())
    for watch in settings.watches:
        for group in _due_messages(store, watch, clock()):
            ids = [delivery["id"] for delivery in group]
            try:
                send(watch, [delivery["event"] for delivery in group], settings.web.base_url)
            except ChannelError as exc:
                store.deliveries.record_failure(ids, str(exc), now=clock())
                report.failures.append((watch.name, str(exc)))
                log.warning("watch %s: %s (retried later)", watch.name, exc)
                break  # the channel is down: the rest wait for the next round
            store.deliveries.mark_delivered(ids, now=clock())
            report.messages += 1
            report.delivered += len(ids)
    return report


def _due_messages(store, watch, now: datetime) -> list[list[dict[str, Any]]]:
    """The watch's due deliveries grouped into messages: one each, or a digest once the
    oldest pending one has waited a whole period."""
    if watch.digest is None:
        return [[delivery] for delivery in store.deliveries.due(watch.name, now=now)]
    oldest = store.deliveries.oldest_pending(watch.name)
    if oldest is None or oldest + watch.digest > now:
        return []
    due = store.deliveries.due(watch.name, now=now)
    return [due[i : i + DIGEST_MAX_EVENTS] for i in range(0, len(due), DIGEST_MAX_EVENTS)]


# ---- messages -------------------------------------------------------------------------------


def _event_lines(event: dict[str, Any], base_url: str) -> list[str]:
    lines = [f"标题：{event['title'] or '（无标题）'}"]
    if event["summary"]:
        lines.append(f"变化：{event['summary']}")
    elif event["changed"]:
        lines.append(f"变化：{'、'.join(event['changed'])}")
    if event["detail"]:
        label = "原网址" if event["kind"] == "moved" else "说明"
        lines.append(f"{label}：{event['detail']}")
    lines += [f"时间：{local_text(event['at'])}",
              f"文章：{base_url}/articles/{event['article_id']}",
              f"网址：{event['url']}"]
    return lines


def message_text(watch_name: str, events: Sequence[dict[str, Any]],
                 base_url: str) -> tuple[str, str]:
    """(title, body) of the message for ``events``: Chinese first, plain text."""
    if len(events) == 1:
        (event,) = events
        label = KIND_LABELS.get(event["kind"], event["kind"])
        title = f"【{label}】{event['source_title']}：{event['title'] or event['url']}"
        body = [f"{label} · {event['source_title']}", *_event_lines(event, base_url)]
    else:
        title = f"govarchive：{len(events)} 条变化（{watch_name}）"
        body = []
        for n, event in enumerate(events, 1):
            label = KIND_LABELS.get(event["kind"], event["kind"])
            body += ["", f"{n}. 【{label}】{event['source_title']}",
                     *(f"   {line}" for line in _event_lines(event, base_url))]
    body += ["", f"全部变化：{base_url}/changes", f"（govarchive watch: {watch_name}）"]
    return title, "\n".join(body).strip()


# ---- channels -------------------------------------------------------------------------------


def send_message(watch, events: Sequence[dict[str, Any]], base_url: str) -> None:
    """Send one message about ``events`` through every channel of ``watch``; raise
    ``ChannelError`` when any channel did not take it."""
    errors = []
    if watch.notify:
        try:
            send_apprise(watch.notify, *message_text(watch.name, events, base_url))
        except ChannelError as exc:
            errors.append(str(exc))
    if watch.webhook:
        try:
            post_webhook(watch.webhook, {"watch": watch.name, "events": list(events)})
        except ChannelError as exc:
            errors.append(str(exc))
    if errors:
        raise ChannelError("; ".join(errors))


def send_apprise(urls: Sequence[str], title: str, body: str) -> None:
    import apprise

    notifier = apprise.Apprise()
    for url in urls:
        notifier.add(url)
    with apprise.LogCapture(level=logging.WARNING) as captured:
        sent = notifier.notify(title=title, body=body, body_format=apprise.NotifyFormat.TEXT)
    if not sent:
        why = [line for line in captured.getvalue().splitlines() if line.strip()]
        raise ChannelError("Apprise: " + (why[-1] if why else "a notify URL did not accept it"))


def post_webhook(url: str, body: dict[str, Any], timeout: float = WEBHOOK_TIMEOUT) -> None:
    """POST ``body`` as JSON; a non-2xx answer or no answer is a ``ChannelError``."""
    request = urllib.request.Request(
        url, data=json.dumps(body, ensure_ascii=False).encode("utf-8"), method="POST",
        headers={"Content-Type": "application/json; charset=utf-8", "User-Agent": USER_AGENT},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status = response.status
    except urllib.error.HTTPError as exc:
        raise ChannelError(f"webhook answered HTTP {exc.code}") from None
    except (OSError, urllib.error.URLError) as exc:
        raise ChannelError(f"webhook: {getattr(exc, 'reason', exc)}") from None
    if not 200 <= status < 300:
        raise ChannelError(f"webhook answered HTTP {status}")
