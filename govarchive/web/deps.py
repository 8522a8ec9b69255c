"""What the API and the pages share: the app's configuration, the store of a request, the
date filters, search, and the page templates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import quote

from fastapi import HTTPException, Request
from fastapi.templating import Jinja2Templates

from govarchive.processes import process_alive, this_node
from govarchive.times import DEFAULT_TIMEZONE, in_zone, parse_day_or_time
from govarchive.web.paths import TEMPLATES_DIR

DEFAULT_REPLAY_URL = "http://127.0.0.1:8080/{collection}/{timestamp}/{url}"
DEFAULT_BASE_URL = "http://127.0.0.1:8000"


@dataclass(frozen=True)
class WebConfig:
    """What the pages need besides the store: where pywb replays captures
    (``{collection}``, ``{timestamp}`` YYYYMMDDhhmmss UTC, ``{url}`` are filled in), and the
    UI's public address (``[web] base_url``) for the feeds' absolute links."""

    collection: str = "govarchive"
    replay_url: str = DEFAULT_REPLAY_URL
    timezone: str = DEFAULT_TIMEZONE  # how the date filters' days are read
    base_url: str = DEFAULT_BASE_URL

    def absolute(self, path: str) -> str:
        """``path`` (starting with /) on the public address."""
        return self.base_url.rstrip("/") + path

    def replay_link(self, url: str, captured_at: str | datetime | None) -> str:
        when = datetime.fromisoformat(captured_at) if isinstance(captured_at, str) else captured_at
        stamp = when.astimezone(UTC).strftime("%Y%m%d%H%M%S") if when else ""
        return self.replay_url.format(
            collection=quote(self.collection), timestamp=stamp, url=quote(url, safe=":/?&=%#+,;")
        )


def parse_when(value: str | None, name: str, zone: str) -> date | datetime | None:
    """A day (kept a day: the store counts it whole, in ``zone``) or an ISO 8601 time, read
    in ``zone`` unless it has an offset (``govarchive.times``: one rule with the CLI)."""
    if not value:
        return None
    try:
        parsed = parse_day_or_time(value)
    except ValueError as exc:
        raise HTTPException(400, f"{name}={exc}") from None
    return in_zone(parsed, zone) if isinstance(parsed, datetime) else parsed


def store_of(request: Request):
    return request.app.state.store


def list_runs(request: Request, source: str | None, limit: int) -> list[dict[str, Any]]:
    """Runs newest first, after closing those whose process died (as ``govarchive runs``)."""
    store = store_of(request)
    store.close_dead_runs(node=this_node(), is_alive=process_alive)
    return store.list_runs(source, limit)


def run_search(request: Request, *, q: str | None, source: str | None, since: str | None,
               until: str | None, status: str | None, origin: str | None, sort: str | None,
               limit: int, offset: int, exact_total: bool = False,
               versions: bool = False) -> dict[str, Any]:
    from govarchive.storage import SearchQueryError

    config: WebConfig = request.app.state.config
    try:
        return store_of(request).search(
            q or None, source=source or None,
            since=parse_when(since, "since", config.timezone),
            until=parse_when(until, "until", config.timezone),
            status=status or None, origin=origin or None,
            sort=sort or None, limit=limit, offset=offset, timezone=config.timezone,
            exact_total=exact_total, versions=versions,
        )
    except SearchQueryError as exc:
        raise HTTPException(400, str(exc)) from None


templates = Jinja2Templates(directory=TEMPLATES_DIR)
