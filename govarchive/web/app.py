"""The FastAPI application: the JSON API and the HTML pages.

Everything is read-only (GET only) and goes through ``storage.Store``; the app opens no
session of its own. Archived markup is never served as it is here: the article page shows
the body HTML sanitised (``archived_html``), captures are linked to pywb replay on its own
origin, and every answer carries a Content-Security-Policy (``security``).
"""

from __future__ import annotations

from fastapi import Depends, FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from govarchive import __version__
from govarchive.web.api import api
from govarchive.web.api_docs import api_docs
from govarchive.web.changes import changes_pages
from govarchive.web.deps import WebConfig, templates
from govarchive.web.feeds import feeds
from govarchive.web.pages import pages
from govarchive.web.paths import STATIC_DIR
from govarchive.web.security import SecurityHeaders, capped_request


async def _error_page(request: Request, exc: StarletteHTTPException):
    """Errors of the pages as a page; the API keeps FastAPI's ``{"detail": ...}``."""
    if request.url.path.startswith("/api") or request.url.path.startswith("/openapi"):
        return await http_exception_handler(request, exc)
    return templates.TemplateResponse(
        request, "error.html", {"status": exc.status_code, "detail": exc.detail},
        status_code=exc.status_code,
    )


def create_app(store, config: WebConfig | None = None) -> FastAPI:
    """The app over an open ``storage.Store`` (the caller owns and closes it)."""
    # FastAPI's own /docs and /redoc load their scripts from a CDN (blank offline or behind
    # a firewall); api_docs serves a plain page of ours at /docs instead.
    app = FastAPI(title="govarchive", version=__version__,
                  description="Read-only search and history of archived government news.",
                  docs_url=None, redoc_url=None, dependencies=[Depends(capped_request)])
    app.state.store = store
    app.state.config = config or WebConfig()
    app.include_router(api)
    app.include_router(pages)
    app.include_router(changes_pages)
    app.include_router(feeds)
    app.include_router(api_docs)
    app.add_exception_handler(StarletteHTTPException, _error_page)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.add_middleware(SecurityHeaders)
    return app
