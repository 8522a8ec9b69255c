"""Why a page gave no article (or no list): one small set of page statuses.

Every page that ends without being stored or read gets one status, counted in the crawl's
stats as ``govarchive/status/<status>`` (the summary line shows them) and logged once as
``<source>: <kind> <url> [<status>] <reason>``:

=====================  ==================================================================
``too_large``          larger than ``DOWNLOAD_MAXSIZE`` (or unzips to more): not archived
``not_html``           not an HTML page (binary bytes, an image, a PDF): archived, not parsed
``redirect_loop``      a redirect back to a URL already on its way: every hop archived
``too_many_redirects`` more hops than ``REDIRECT_MAX_TIMES``: every hop archived
``timeout``            no whole answer within ``timeout``: nothing archived
``connection_error``   reset, refused, closed early, unreadable headers: nothing archived
``corrupt``            a gzip body that is cut short or does not unzip: archived as received
``blocked``            an anti-bot wall, or a request held back from a host behind one
``gone``               404 or 410
``http_error``         any other 4xx/5xx answer
``refused``            not sent: robots.txt, a private address
``too_many_links``     a list page with more article links than the cap: the first ones taken
``list_capped``        the section went on past ``max_list_pages`` (e.g. a calendar trap)
``error``              anything else (the reason says what)
=====================  ==================================================================

Nothing is archived for a page cut short on the way (``too_large``, ``timeout``,
``connection_error``): a WARC response record holds whole answers only.
"""

from __future__ import annotations

import zlib
from urllib.parse import urlsplit

from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    IgnoreRequest,
    ResponseDataLossError,
)
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet.error import ConnectError, ConnectionClosed
from twisted.web.client import ResponseFailed

from govarchive.crawler.blocking import block_reason

TOO_LARGE, NOT_HTML, TIMEOUT, CONNECTION_ERROR, CORRUPT = (
    "too_large", "not_html", "timeout", "connection_error", "corrupt")
REDIRECT_LOOP, TOO_MANY_REDIRECTS = "redirect_loop", "too_many_redirects"
BLOCKED, GONE, HTTP_ERROR, REFUSED, ERROR = "blocked", "gone", "http_error", "refused", "error"
TOO_MANY_LINKS, LIST_CAPPED = "too_many_links", "list_capped"
PAGE_STATUSES = (TOO_LARGE, NOT_HTML, REDIRECT_LOOP, TOO_MANY_REDIRECTS, TIMEOUT,
                 CONNECTION_ERROR, CORRUPT, BLOCKED, GONE, HTTP_ERROR, REFUSED, TOO_MANY_LINKS,
                 LIST_CAPPED, ERROR)


class PageRefused(IgnoreRequest):
    """A response our downloader middlewares will not hand on; ``status`` says why."""

    status = ERROR


class RedirectLoop(PageRefused):
    status = REDIRECT_LOOP


class TooManyRedirects(PageRefused):
    status = TOO_MANY_REDIRECTS


class CorruptBody(PageRefused):
    status = CORRUPT


class TooLarge(PageRefused):
    status = TOO_LARGE


def failure_status(failure) -> tuple[str, str]:
    """The page status and a one-line reason for a failed request (a Twisted ``Failure``)."""
    error = failure.value
    if isinstance(error, PageRefused):
        return error.status, str(error)
    if isinstance(error, HttpError):
        response = error.response
        reason = block_reason(response.status, response.headers)
        if reason is not None:
            return BLOCKED, f"anti-bot wall ({reason})"
        if response.status in (404, 410):
            return GONE, f"answered {response.status}"
        return HTTP_ERROR, f"answered {response.status}"
    if isinstance(error, DownloadTimeoutError):
        return TIMEOUT, "timed out"
    if isinstance(error, DownloadCancelledError):
        return TOO_LARGE, str(error)
    if isinstance(error, CannotResolveHostError):
        request = getattr(failure, "request", None)
        host = urlsplit(request.url).hostname if request is not None else None
        return CONNECTION_ERROR, f"host not found ({host})"
    if isinstance(error, DownloadConnectionRefusedError):
        return CONNECTION_ERROR, "connection refused"
    if isinstance(error, (ResponseDataLossError, DownloadFailedError, ResponseFailed,
                          ConnectionClosed, ConnectError)):
        return CONNECTION_ERROR, _failure_text(error)
    if isinstance(error, zlib.error):
        return CORRUPT, f"body does not unzip ({error})"
    if isinstance(error, IgnoreRequest):
        return REFUSED, f"not fetched: {error}"
    return ERROR, _failure_text(error)


def _failure_text(error: BaseException) -> str:
    # ResponseFailed holds a list of Failures whose repr is long; their values say it.
    reasons = getattr(error, "reasons", None)
    if reasons:
        return "; ".join(str(r.value) or type(r.value).__name__ for r in reasons)
    return str(error) or type(error).__name__
