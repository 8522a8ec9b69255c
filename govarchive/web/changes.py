"""``/changes``: the watchdog's front page, a timeline of the change feed across sources
(new, edited, removed, restored, delisted, moved articles) with filters, and what the Atom
feeds share with it: reading the filters of a request."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse

from govarchive.times import in_zone
from govarchive.web.deps import WebConfig, parse_when, store_of, templates
from govarchive.web.pages import CHANGE_LABELS, source_titles
from govarchive.web.security import MAX_ID

PAGE_SIZE = 30
# ``until`` is applied here, to the store's pages (newest first): at most this many events
# are read past the newest ones to fill a page.
UNTIL_SCAN = 2000

changes_pages = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class ChangeFilters:
    """What a reader asked for: a source, kinds, a query (the search syntax), a period."""

    source: str | None = None
    kinds: tuple[str, ...] = ()
    q: str | None = None
    since: datetime | None = None
    until: datetime | None = None  # exclusive

    def store_args(self) -> dict[str, Any]:
        return {"source": self.source, "kinds": list(self.kinds) or None, "query": self.q,
                "since": self.since}


def parse_kinds(values: list[str]) -> tuple[str, ...]:
    """``kind`` given repeated or comma-separated; unknown kinds are a 400 naming them."""
    kinds = tuple(dict.fromkeys(k.strip() for v in values for k in v.split(",") if k.strip()))
    unknown = [k for k in kinds if k not in CHANGE_LABELS]
    if unknown:
        raise HTTPException(400, f"kind={unknown[0]}: expected one of "
                                 f"{', '.join(CHANGE_LABELS)}")
    return kinds


def read_filters(request: Request, *, source: str, kind: list[str], q: str, since: str = "",
                 until: str = "") -> ChangeFilters:
    """The filters of a request; a bad date or kind is a 400 naming it."""
    zone = request.app.state.config.timezone
    start = parse_when(since, "since", zone)
    end = parse_when(until, "until", zone)
    if isinstance(end, datetime):
        end += timedelta(microseconds=1)  # a time is included
    elif isinstance(end, date):
        end = in_zone(end + timedelta(days=1), zone)  # a day counts to its end
    return ChangeFilters(source=source or None, kinds=parse_kinds(kind), q=q.strip() or None,
                         since=in_zone(start, zone) if start else None, until=end)


def list_events(store, filters: ChangeFilters, *, limit: int,
                before_id: int | None = None) -> tuple[list[dict[str, Any]], int | None]:
    """A page of events newest first, and the ``before_id`` of the next page (None at the
    end). Raises ``SearchQueryError`` for a bad query."""
    if filters.until is None:
        events = store.list_changes(**filters.store_args(), limit=limit + 1,
                                    before_id=before_id)
        return events[:limit], events[limit - 1]["id"] if len(events) > limit else None
    kept: list[dict[str, Any]] = []
    read = 0
    while read < UNTIL_SCAN:
        batch = store.list_changes(**filters.store_args(), limit=100, before_id=before_id)
        read += len(batch)
        for event in batch:
            if datetime.fromisoformat(event["at"]) < filters.until:
                kept.append(event)
                if len(kept) == limit:
                    return kept, event["id"]
        if len(batch) < 100:
            return kept, None
        before_id = batch[-1]["id"]
    return kept, before_id


class Captures:
    """Replay links of an article's versions (``Store.article_history``), read once per
    article on a page."""

    def __init__(self, store, config: WebConfig) -> None:
        self.store, self.config = store, config
        self.versions: dict[int, dict[int, str]] = {}

    def _versions(self, article_id: int) -> dict[int, str]:
        if article_id not in self.versions:
            history = self.store.article_history(article_id) or {"timeline": []}
            self.versions[article_id] = {
                e["n"]: e["at"] for e in history["timeline"] if e["type"] == "version"}
        return self.versions[article_id]

    def version(self, event: dict[str, Any], n: int | None) -> str | None:
        """The replay link of version ``n``'s capture, if there is one."""
        at = self._versions(event["article_id"]).get(n) if n else None
        return self.config.replay_link(event["url"], at) if at else None

    def last(self, event: dict[str, Any]) -> str | None:
        """The replay link of the article's last version (what was last seen online)."""
        versions = self._versions(event["article_id"])
        return self.version(event, max(versions)) if versions else None


@changes_pages.get("/changes", response_class=HTMLResponse)
def changes_page(
    request: Request, source: str = "", kind: Annotated[list[str], Query()] = [],  # noqa: B006
    q: str = "", since: str = "", until: str = "",
    before: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> HTMLResponse:
    from govarchive.storage import SearchQueryError

    store = store_of(request)
    config: WebConfig = request.app.state.config
    form = {"source": source, "kind": parse_kinds(kind), "q": q, "since": since, "until": until}
    error, events, next_before = None, [], None
    try:
        filters = read_filters(request, source=source, kind=kind, q=q, since=since, until=until)
        events, next_before = list_events(store, filters, limit=PAGE_SIZE, before_id=before)
    except SearchQueryError as exc:
        error = str(exc)
    except HTTPException as exc:
        error = exc.detail
    kept = [(k, v) for k, v in form.items() if v and k != "kind"]
    kept += [("kind", k) for k in form["kind"]]
    feed_params = [(k, v) for k, v in kept if k in ("source", "kind", "q")]
    return templates.TemplateResponse(request, "changes.html", {
        "form": form, "events": events, "error": error, "sources": store.list_sources(),
        "titles": source_titles(store), "captures": Captures(store, config),
        "older": "/changes?" + urlencode([*kept, ("before", next_before)]) if next_before
        else None,
        "feed": "/feeds/changes.atom" + ("?" + urlencode(feed_params) if feed_params else ""),
    }, status_code=400 if error else 200)
