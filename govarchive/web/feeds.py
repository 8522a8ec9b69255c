"""Atom 1.0 feeds of the change feed (feedgen): ``/feeds/changes.atom`` with the ``/changes``
page's filters, and ``/feeds/articles/{id}.atom`` for one article's changes.

Entry ids are stable (``tag:govarchive,2026:change/{event id}``), so a reader sees each change
once; links are absolute, on the configured public address (``[web] base_url``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import Response

from govarchive.web.changes import list_events, read_filters
from govarchive.web.deps import WebConfig, store_of
from govarchive.web.pages import CHANGE_LABELS, FIELD_LABELS
from govarchive.web.security import ArticleId

FEED_SIZE = 50
ATOM_TYPE = "application/atom+xml; charset=utf-8"
ENTRY_ID = "tag:govarchive,2026:change/{id}"

feeds = APIRouter(prefix="/feeds", include_in_schema=False)


def entry_content(event: dict[str, Any]) -> str:
    """What a feed reader shows of a change: the diff summary, else what is known."""
    if event.get("summary"):
        return event["summary"]
    parts = [f"{CHANGE_LABELS.get(event['kind'], event['kind'])}: {event.get('title') or ''}"]
    if event.get("changed"):
        parts.append("变更：" + "、".join(FIELD_LABELS.get(f, f) for f in event["changed"]))
    if event.get("detail"):
        parts.append(event["detail"])
    parts.append(event["url"])
    return "\n".join(parts)


def atom(config: WebConfig, *, feed_id: str, title: str, self_path: str, page_path: str,
         events: list[dict[str, Any]]) -> Response:
    """The Atom document of ``events`` (newest first)."""
    from feedgen.feed import FeedGenerator

    generator = FeedGenerator()
    generator.id(feed_id)
    generator.title(title)
    generator.author({"name": "govarchive"})
    generator.link(href=config.absolute(self_path), rel="self", type="application/atom+xml")
    generator.link(href=config.absolute(page_path), rel="alternate", type="text/html")
    # A feed without entries was last updated... never: the epoch keeps the document stable.
    newest = max((datetime.fromisoformat(e["at"]) for e in events),
                 default=datetime(1970, 1, 1, tzinfo=UTC))
    generator.updated(newest)
    for event in events:
        entry = generator.add_entry(order="append")
        entry.id(ENTRY_ID.format(id=event["id"]))
        label = CHANGE_LABELS.get(event["kind"], event["kind"])
        entry.title(f"{label}: {event.get('title') or event['url']}")
        entry.updated(datetime.fromisoformat(event["at"]))
        page = f"/articles/{event['article_id']}"
        if event["kind"] == "edited" and event.get("version") and event["version"] > 1:
            page += f"?from={event['version'] - 1}&to={event['version']}#diff"
        entry.link(href=config.absolute(page), rel="alternate", type="text/html")
        entry.category(term=event["kind"], label=label)
        entry.content(entry_content(event), type="text")
    return Response(generator.atom_str(pretty=True), media_type=ATOM_TYPE)


@feeds.get("/changes.atom")
def changes_feed(request: Request, source: str = "",
                 kind: Annotated[list[str], Query()] = [],  # noqa: B006
                 q: str = "") -> Response:
    """The newest changes matching the filters (``kind`` repeated or comma-separated)."""
    from govarchive.storage import SearchQueryError

    filters = read_filters(request, source=source, kind=kind, q=q)
    try:
        events, _ = list_events(store_of(request), filters, limit=FEED_SIZE)
    except SearchQueryError as exc:
        raise HTTPException(400, f"q={exc}") from None
    params = [(k, v) for k, v in (("source", filters.source), ("q", filters.q)) if v]
    params += [("kind", k) for k in filters.kinds]
    query = "?" + urlencode(params) if params else ""
    config: WebConfig = request.app.state.config
    return atom(config, feed_id=config.absolute("/feeds/changes.atom" + query),
                title="govarchive 变更", self_path="/feeds/changes.atom" + query,
                page_path="/changes" + query, events=events)


@feeds.get("/articles/{article_id}.atom")
def article_feed(request: Request, article_id: ArticleId) -> Response:
    """One article's changes, newest first."""
    store = store_of(request)
    record = store.get_article(article_id)
    if record is None:
        raise HTTPException(404, f"no article with id {article_id}")
    config: WebConfig = request.app.state.config
    path = f"/feeds/articles/{article_id}.atom"
    return atom(config, feed_id=config.absolute(path),
                title=f"govarchive 变更: {record['title'] or record['url']}", self_path=path,
                page_path=f"/articles/{article_id}",
                events=store.list_changes(article_id=article_id, limit=FEED_SIZE))
