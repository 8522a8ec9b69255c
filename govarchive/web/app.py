"""The FastAPI application: the JSON API of CONTRACT.md ("HTTP") and the HTML pages.

Everything is read-only (GET only) and goes through ``storage.Store``; the app opens no
session of its own. Archived HTML is never rendered here: captures are linked to pywb replay.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, FastAPI, HTTPException, Query, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from govarchive import __version__
from govarchive.times import DEFAULT_TIMEZONE
from govarchive.web import schemas
from govarchive.web.paths import STATIC_DIR

DEFAULT_REPLAY_URL = "http://127.0.0.1:8080/{collection}/{timestamp}/{url}"


@dataclass(frozen=True)
class WebConfig:
    """What the pages need besides the store: where pywb replays captures
    (``{collection}``, ``{timestamp}`` YYYYMMDDhhmmss UTC, ``{url}`` are filled in)."""

    collection: str = "govarchive"
    replay_url: str = DEFAULT_REPLAY_URL
    timezone: str = DEFAULT_TIMEZONE  # how the date filters' days are read

    def replay_link(self, url: str, captured_at: str | datetime | None) -> str:
        when = datetime.fromisoformat(captured_at) if isinstance(captured_at, str) else captured_at
        stamp = when.astimezone(UTC).strftime("%Y%m%d%H%M%S") if when else ""
        return self.replay_url.format(
            collection=quote(self.collection), timestamp=stamp, url=quote(url, safe=":/?&=%#+,;")
        )


def parse_when(value: str | None, name: str) -> date | datetime | None:
    """YYYY-MM-DD (a whole day) or an ISO 8601 time (UTC unless it has an offset)."""
    if not value:
        return None
    try:
        return date.fromisoformat(value) if len(value) == 10 else datetime.fromisoformat(value)
    except ValueError:
        raise HTTPException(
            400, f"{name}={value!r} is not a date: write YYYY-MM-DD or YYYY-MM-DDThh:mm+08:00"
        ) from None


def store_of(request: Request):
    return request.app.state.store


def run_search(request: Request, *, q: str | None, source: str | None, since: str | None,
               until: str | None, status: str | None, origin: str | None, sort: str | None,
               limit: int, offset: int, exact_total: bool = False) -> dict[str, Any]:
    from govarchive.storage import SearchQueryError

    config: WebConfig = request.app.state.config
    try:
        return store_of(request).search(
            q or None, source=source or None, since=parse_when(since, "since"),
            until=parse_when(until, "until"), status=status or None, origin=origin or None,
            sort=sort or None, limit=limit, offset=offset, timezone=config.timezone,
            exact_total=exact_total,
        )
    except SearchQueryError as exc:
        raise HTTPException(400, str(exc)) from None


api = APIRouter(prefix="/api", tags=["api"])
Limit = Annotated[int, Query(ge=1, le=100, description="items a page (at most 100)")]


@api.get("/articles", response_model=schemas.SearchPage)
def list_articles(
    request: Request,
    q: Annotated[str | None, Query(description='words (all must occur), "a phrase"')] = None,
    source: str | None = None,
    since: Annotated[str | None, Query(description="published on/after (YYYY-MM-DD or ISO)")] = None,
    until: Annotated[str | None, Query(description="published on/before (YYYY-MM-DD or ISO)")] = None,
    status: Annotated[str | None, Query(pattern="^(live|removed)$")] = None,
    origin: Annotated[str | None, Query(description="来源, exact")] = None,
    sort: Annotated[str | None, Query(pattern="^(relevance|date)$")] = None,
    limit: Limit = 20,
    offset: Annotated[int, Query(ge=0)] = 0,
    exact_total: Annotated[bool, Query(
        description="count every hit (slow for common words); otherwise counting stops "
                    "past 300 and total_exact is false")] = False,
) -> dict[str, Any]:
    """Search titles and bodies (Chinese words of any length) and filter. With ``q``: the
    newest 300 hits by relevance (then newest first), then any further hits newest first;
    without ``q`` or with ``sort=date``: newest first. Paging is stable (ties end by id)."""
    found = run_search(request, q=q, source=source, since=since, until=until, status=status,
                       origin=origin, sort=sort, limit=limit, offset=offset,
                       exact_total=exact_total)
    return {key: found[key] for key in ("total", "total_exact", "ranked", "items")}


@api.get("/articles/{article_id}", response_model=schemas.ArticleRecord)
def get_article(request: Request, article_id: int) -> dict[str, Any]:
    record = store_of(request).get_article(article_id)
    if record is None:
        raise HTTPException(404, f"no article with id {article_id}")
    return record


@api.get("/articles/{article_id}/diff", response_model=schemas.FieldDiff)
def diff_article(
    request: Request, article_id: int,
    from_n: Annotated[int | None, Query(alias="from", ge=1)] = None,
    to_n: Annotated[int | None, Query(alias="to", ge=1)] = None,
) -> dict[str, Any]:
    """Character-level differences of each changed field between versions ``from`` and
    ``to`` (default: the last two)."""
    found = store_of(request).article_diff(article_id, from_n, to_n)
    if found is None:
        raise HTTPException(404, f"no article {article_id} with versions {from_n}..{to_n}")
    return found


@api.get("/articles/{article_id}/history")
def article_history(request: Request, article_id: int) -> dict[str, Any]:
    """Versions and status events (gone, removed, restored, delisted, ...), oldest first."""
    found = store_of(request).article_history(article_id)
    if found is None:
        raise HTTPException(404, f"no article with id {article_id}")
    return found


@api.get("/runs", response_model=list[schemas.Run])
def list_runs(request: Request, source: str | None = None, limit: Limit = 20) -> list[dict]:
    """Crawl runs newest first, as ``govarchive runs --json``."""
    return store_of(request).list_runs(source or None, limit)


async def _error_page(request: Request, exc: StarletteHTTPException):
    """Errors of the pages as a page; the API keeps FastAPI's ``{"detail": ...}``."""
    if request.url.path.startswith("/api") or request.url.path.startswith("/openapi"):
        return await http_exception_handler(request, exc)
    from govarchive.web.pages import templates

    return templates.TemplateResponse(
        request, "error.html", {"status": exc.status_code, "detail": exc.detail},
        status_code=exc.status_code,
    )


def create_app(store, config: WebConfig | None = None) -> FastAPI:
    """The app over an open ``storage.Store`` (the caller owns and closes it)."""
    from govarchive.web.api_docs import api_docs
    from govarchive.web.pages import pages

    # FastAPI's own /docs and /redoc load their scripts from a CDN (blank offline or behind
    # a firewall); api_docs serves a plain page of ours at /docs instead.
    app = FastAPI(title="govarchive", version=__version__,
                  description="Read-only search and history of archived government news.",
                  docs_url=None, redoc_url=None)
    app.state.store = store
    app.state.config = config or WebConfig()
    app.include_router(api)
    app.include_router(pages)
    app.include_router(api_docs)
    app.add_exception_handler(StarletteHTTPException, _error_page)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app
