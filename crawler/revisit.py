"""Fetching known articles again: conditional requests, and archiving their answers as revisits.

Revisit requests are conditional (``If-None-Match`` / ``If-Modified-Since`` from the last
capture of the URL). The archiver asks :func:`revisit_profile` whether an answer is a revisit:
a 304 is archived as a *server-not-modified* revisit record, a 200 whose payload digest equals
the last capture's as an *identical-payload-digest* one (headers only, referring to the
earlier record), so an unchanged recrawl stores headers, not the page again.

What an answer to a revisit means for the article (not modified, gone, blocked) is decided
by :func:`crawler.verdict.response_verdict`, as for any article response.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field
from datetime import datetime

# request.meta key of a revisit request: its storage.revisits.RevisitTarget.
REVISIT_META = "govarchive_revisit"


@dataclass
class Listing:
    """What one section's list pages showed during this run."""

    start_url: str
    fetched_at: datetime | None = None
    urls: list[str] = field(default_factory=list)
    record_ids: list[str] = field(default_factory=list)
    complete: bool = True  # the walk reached the section's last list page
    pages: int = 0  # list pages read
    failed: bool = False  # a list page could not be read
    full: bool = True  # it read what a full walk reads (crawler.walk.walked_in_full)
    # Article links the section's first page itself showed: none (a shell whose list comes
    # from an API, a redirect stub, a hub, a broken page) means its next walk must not be
    # ended by a 304 of that page (crawler.walk).
    first_page_links: int | None = None


def payload_digest(body: bytes) -> str:
    """The WARC-Payload-Digest of ``body`` as the writer records it (``sha1:BASE32``)."""
    return "sha1:" + base64.b32encode(hashlib.sha1(body).digest()).decode("ascii")


def conditional_headers(target) -> dict[str, str]:
    headers = {}
    if target.etag:
        headers["If-None-Match"] = target.etag
    if target.last_modified:
        headers["If-Modified-Since"] = target.last_modified
    return headers


def revisit_profile(target, status: int, url: str, body: bytes, truncated: bool) -> str | None:
    """Which revisit record (if any) archives this answer to a revisit request for ``target``
    (a ``storage.revisits.RevisitTarget``)."""
    if target is None or target.refers_to is None or url != target.url:
        return None
    if status == 304:
        return "server-not-modified"
    if (status == 200 and not truncated and target.payload_digest
            and payload_digest(body) == target.payload_digest):
        return "identical-payload-digest"
    return None
