"""The HTML pages: server-rendered (Jinja2), usable without JavaScript, read-only."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup, escape

from govarchive.times import DEFAULT_TIMEZONE
from govarchive.web.archived_html import sanitised
from govarchive.web.deps import WebConfig, list_runs, run_search, store_of, templates
from govarchive.web.security import ArticleId

PAGE_SIZE = 20
MAX_PAGE = 10_000  # deeper pages are refused (422): narrow the search instead
FIELD_LABELS = {
    "title": "标题", "published_at": "发布时间", "origin": "来源", "author": "作者",
    "doc_number": "发文字号", "body_text": "正文", "attachments": "附件",
}
EVENT_LABELS = {
    "gone": "无法访问", "removed": "已删除", "restored": "已恢复", "delisted": "移出列表",
    "relisted": "重回列表", "blocked": "被拦截",
}

# What the change feed's kinds are called on the pages and in the feeds.
CHANGE_LABELS = {
    "new": "新增", "edited": "修改", "removed": "删除", "restored": "恢复", "delisted": "移出列表",
    "moved": "迁移",
}

pages = APIRouter(include_in_schema=False)


def status_badge(status: str, pending_removal: bool = False) -> tuple[str, str]:
    """An article's state as (css class, label): removed, or live but a fetch found it gone
    and the removal awaits confirmation, or live."""
    if status == "removed":
        return "removed", "已删除"
    if pending_removal:
        return "pending", "待确认删除"
    return "live", "在线"


def source_titles(store) -> dict[str, str]:
    """Source name -> the title the pages show (the name when it has none)."""
    return {s["name"]: s["title"] or s["name"] for s in store.list_sources()}


def highlight(text: str | None, terms: list[str]) -> Markup:
    """``text`` escaped, with each query term wrapped in <mark>."""
    text = text or ""
    words = sorted({w for term in terms for w in term.split() if w}, key=len, reverse=True)
    if not words:
        return escape(text)
    pattern = re.compile("|".join(re.escape(w) for w in words), re.IGNORECASE)
    out, last = [], 0
    for match in pattern.finditer(text):
        out.append(escape(text[last : match.start()]))
        out.append(Markup("<mark>") + escape(match.group()) + Markup("</mark>"))
        last = match.end()
    out.append(escape(text[last:]))
    return Markup("").join(out)


def sides(ops: list[list[str]]) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """A diff as its two columns: the old text (equal + deleted runs), the new (equal +
    inserted)."""
    old = [(op, text) for op, text in ops if op != "insert"]
    new = [(op, text) for op, text in ops if op != "delete"]
    return old, new


def local_time(value: str | None, zone: str = DEFAULT_TIMEZONE) -> str:
    """An ISO time as ``2026-03-01 16:00`` in the reader's zone (China by default)."""
    if not value:
        return "—"
    when = datetime.fromisoformat(value)
    return when.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")


templates.env.filters["highlight"] = highlight
templates.env.filters["local"] = local_time
templates.env.globals["FIELD_LABELS"] = FIELD_LABELS
templates.env.globals["EVENT_LABELS"] = EVENT_LABELS
templates.env.globals["CHANGE_LABELS"] = CHANGE_LABELS
templates.env.globals["status_badge"] = status_badge


@pages.get("/", response_class=HTMLResponse)
def search_page(
    request: Request, q: str = "", source: str = "", since: str = "", until: str = "",
    status: str = "", origin: str = "", sort: str = "", count: str = "",
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
) -> HTMLResponse:
    form = {"q": q, "source": source, "since": since, "until": until, "status": status,
            "origin": origin, "sort": sort}
    exact_total = count == "all"
    error, found = None, {"total": 0, "total_exact": True, "ranked": 0, "items": [],
                          "terms": []}
    try:
        found = run_search(request, **form, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE,
                           exact_total=exact_total, versions=True)
    except HTTPException as exc:
        error = exc.detail
    pages_total = max(1, -(-found["total"] // PAGE_SIZE))
    # Counting stops past a limit: then there is a next page while this one is full.
    more = not found["total_exact"]
    if more:
        pages_total = max(pages_total, page + (len(found["items"]) == PAGE_SIZE))
    kept = {k: v for k, v in form.items() if v} | ({"count": "all"} if exact_total else {})

    def page_link(n: int) -> str:
        return "/?" + urlencode({**kept, "page": n})

    def count_link() -> str:
        return "/?" + urlencode({**kept, "count": "all", "page": page})

    store = store_of(request)
    return templates.TemplateResponse(request, "search.html", {
        "form": form, "found": found, "error": error, "page": page, "pages_total": pages_total,
        "more": more, "page_link": page_link, "count_link": count_link,
        "sources": store.list_sources(), "titles": source_titles(store),
    }, status_code=400 if error else 200)


@pages.get("/articles/{article_id}", response_class=HTMLResponse)
def article_page(
    request: Request, article_id: ArticleId,
    from_n: Annotated[int | None, Query(alias="from", ge=1)] = None,
    to_n: Annotated[int | None, Query(alias="to", ge=1)] = None,
) -> HTMLResponse:
    store = store_of(request)
    record = store.get_article(article_id)
    if record is None:
        raise HTTPException(404, f"no article with id {article_id}")
    history = store.article_history(article_id) or {"timeline": []}
    diff = None
    if len(record["versions"]) > 1 or from_n or to_n:
        diff = store.article_diff(article_id, from_n, to_n)
    config: WebConfig = request.app.state.config
    # The badge reads the same facts as the change feed's (a removal not yet confirmed).
    latest = store.list_changes(article_id=article_id, limit=1)
    pending_removal = bool(latest) and latest[0]["pending_removal"]
    return templates.TemplateResponse(request, "article.html", {
        "a": record, "body": sanitised(latest_body_html(store, record)),
        "events": [e for e in history["timeline"] if e["type"] == "event"],
        "diff": diff, "sides": sides, "badge": status_badge(record["status"], pending_removal),
        "source_title": source_titles(store).get(record["source"], record["source"]),
        "replay": lambda captured_at: config.replay_link(record["url"], captured_at),
        # An image's capture in replay, around the newest version's (storage.images).
        "replay_image": lambda url: config.replay_link(
            url, record["versions"][-1]["captured_at"] if record["versions"] else None),
    })


def latest_body_html(store, record: dict) -> str:
    """The body HTML of the article's newest version ("" when none was extracted)."""
    if not record["versions"]:
        return ""
    newest = max(v["n"] for v in record["versions"])
    content = store.article_version(record["id"], newest) or {}
    return content.get("body_html") or ""


@pages.get("/runs", response_class=HTMLResponse)
def runs_page(request: Request, source: str = "") -> HTMLResponse:
    store = store_of(request)
    return templates.TemplateResponse(request, "runs.html", {
        "runs": list_runs(request, source or None, 100), "source": source,
        "sources": store.list_sources(), "titles": source_titles(store),
    })
