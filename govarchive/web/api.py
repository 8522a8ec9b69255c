"""The JSON API (``/api/...``) of the contract's "HTTP" section: read-only, GET only."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request

from govarchive.web import schemas
from govarchive.web.deps import list_runs as runs_listed
from govarchive.web.deps import run_search, store_of
from govarchive.web.security import ArticleId

api = APIRouter(prefix="/api", tags=["api"])
MAX_OFFSET = 200_000  # deeper offsets are refused (422): narrow the search instead
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
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
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
def get_article(request: Request, article_id: ArticleId) -> dict[str, Any]:
    record = store_of(request).get_article(article_id)
    if record is None:
        raise HTTPException(404, f"no article with id {article_id}")
    return record


@api.get("/articles/{article_id}/diff", response_model=schemas.FieldDiff)
def diff_article(
    request: Request, article_id: ArticleId,
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
def article_history(request: Request, article_id: ArticleId) -> dict[str, Any]:
    """Versions and status events (gone, removed, restored, delisted, ...), oldest first."""
    found = store_of(request).article_history(article_id)
    if found is None:
        raise HTTPException(404, f"no article with id {article_id}")
    return found


@api.get("/runs", response_model=list[schemas.Run])
def list_runs(request: Request, source: str | None = None, limit: Limit = 20) -> list[dict]:
    """Crawl runs newest first, as ``govarchive runs --json``."""
    return runs_listed(request, source or None, limit)
