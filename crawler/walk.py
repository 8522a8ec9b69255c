"""How far a run walks each section's list pages: the walk policy.

A section is walked ``until-known`` (``[[sources]] walk``, the default) or in full (``all``):

- an ``until-known`` walk asks for the first list page with the validators of its last capture
  (``If-None-Match`` / ``If-Modified-Since``); a 304 ends the section's walk for the run (the
  answer is archived as a revisit record). Otherwise it follows one list page at a time and
  stops after the first that holds no article link the crawl has not seen: what follows is
  known already.
- a full walk reads every list page up to ``max_list_pages``, unconditionally. A section is
  walked in full on its first crawl, when ``--max-list-pages`` is given on the command line,
  when the source says ``walk = "all"``, and when its last full walk is ``full_walk_every`` ago.

Only a walk that read what a full walk reads (to the section's last page, or to
``max_list_pages`` with every page read) can say an article dropped out of the section
(delisting, ``storage.tracking.apply_listing``); :func:`walked_in_full` is that rule, asked by
the crawl and by ``replay reparse`` alike.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from govarchive.crawler.revisit import REVISIT_META, conditional_headers
from govarchive.storage import SectionWalk

UNTIL_KNOWN, ALL = "until-known", "all"
WALK_MODES = (UNTIL_KNOWN, ALL)

# Why a section is walked in full this run (WalkPlan.reason).
FIRST_CRAWL = "first crawl"
CONFIGURED = 'walk = "all"'
COMMAND_LINE = "--max-list-pages given"
DUE = "full walk due"
# The source's last run failed, timed out or was blocked: the articles its walk listed may not
# have been fetched, so knowing their links proves nothing about the pages after them.
AFTER_FAILURE = "the last run did not end ok"


@dataclass(frozen=True)
class WalkPlan:
    """How this run walks the section starting at ``start_url``."""

    start_url: str
    full: bool
    reason: str | None = None  # why full (FIRST_CRAWL, CONFIGURED, COMMAND_LINE, DUE)
    validators: object | None = None  # sent with the first list page (until-known walks)
    # What the last walk listed (canonical URLs): seen, even where no article was stored
    listed: frozenset[str] = frozenset()

    @property
    def mode(self) -> str:
        return ALL if self.full else UNTIL_KNOWN


def plan_walk(state: SectionWalk, *, walk: str, full_walk_every: timedelta | None,
              now: datetime, command_line_pages: bool = False,
              last_run_ok: bool = True) -> WalkPlan:
    """The plan for one section, from what its earlier walks left (``state``).
    ``full_walk_every`` None: never a periodic full walk."""
    if walk not in WALK_MODES:
        raise ValueError(f"walk {walk!r}: expected one of {WALK_MODES}")
    reason = None
    if state.last_walk_at is None:
        reason = FIRST_CRAWL
    elif command_line_pages:
        reason = COMMAND_LINE
    elif not last_run_ok:
        reason = AFTER_FAILURE
    elif walk == ALL:
        reason = CONFIGURED
    elif full_walk_every is not None and (
            state.last_full_walk_at is None or now - state.last_full_walk_at >= full_walk_every):
        reason = DUE
    if reason is not None:
        return WalkPlan(state.start_url, True, reason)
    # A section whose first page showed no article link last time is read again,
    # unconditionally: an unchanged broken page must fail again (crawler.run), not pass as a
    # quiet 304, and a shell (its list from an API), a redirect stub or a hub must be read
    # through to the pages that list, which its own 304 says nothing about.
    validators = state.validators if state.last_links != 0 else None
    return WalkPlan(state.start_url, False, None, validators, state.listed)


class SectionWalks:
    """The plans of one source's sections for a run, as the spider asks them."""

    def __init__(self, plans=()):
        self._plans = {plan.start_url: plan for plan in plans}
        # Further list pages an until-known walk found and has not asked for yet, by section.
        self._waiting: dict[str, dict[str, Any]] = {}

    def plan(self, start_url: str) -> WalkPlan:
        # A section without a plan (a spider built without the database) is walked in full,
        # as every walk was before walk plans.
        return self._plans.get(start_url) or WalkPlan(start_url, True, FIRST_CRAWL)

    def first_request(self, request):
        """The section's first list request, conditional when its walk has validators: a
        304 is handed to the callback and archived as a revisit of the last capture."""
        plan = self.plan(request.meta.get("start", request.url))
        target = plan.validators
        if plan.full or target is None or getattr(target, "url", None) != request.url:
            return request
        headers = conditional_headers(target)
        if not headers:
            return request
        for name, value in headers.items():
            request.headers[name] = value
        request.meta[REVISIT_META] = target
        request.meta["handle_httpstatus_list"] = [304]
        return request

    def to_follow(self, start_url: str, requests: list, walked: Collection) -> list:
        """Which further list requests (``crawler.links.ListRequest``) to send now, after a
        list page that found ``requests``; ``walked`` holds the keys of those already sent.

        A full walk asks for all of them at once. An until-known walk asks for one at a
        time, the first it found and has not ``walked`` (the next page, in these sites'
        pagers), so it can stop at the first page of known links before the pages after it
        are asked for; the others wait their turn, so none is lost when a later page does
        not link them again."""
        if self.plan(start_url).full:
            return list(requests)
        waiting = self._waiting.setdefault(start_url, {})
        for request in requests:
            waiting.setdefault(request.key, request)
        for key in [key for key in waiting if key in walked]:
            del waiting[key]
        if not waiting:
            return []
        key = next(iter(waiting))
        return [waiting.pop(key)]

    def unread(self, start_url: str, requests: list, walked: Collection) -> list:
        """The further list requests found and not sent, when the walk stops here."""
        found = {request.key: request for request in requests}
        for key, request in self._waiting.get(start_url, {}).items():
            found.setdefault(key, request)
        return [request for key, request in found.items() if key not in walked]

    def listed_before(self, start_url: str, key: str) -> bool:
        """Whether the section's last walk listed ``key`` (a canonical URL): a link robots.txt
        refuses, or one that answers 404, is never stored but is no news either."""
        return key in self.plan(start_url).listed

    def goes_on(self, start_url: str, unseen_links: int) -> bool:
        """Whether the walk follows the next list pages after a page that showed
        ``unseen_links`` article links the crawl had not seen."""
        return self.plan(start_url).full or unseen_links > 0


def walked_in_full(*, complete: bool, failed: bool, pages_read: int, page_cap: int,
                   links: int) -> bool:
    """Whether a walk read what a full walk reads: every page it found, to the section's end
    (``complete``) or to the ``page_cap`` (max_list_pages). An until-known walk that stopped
    early, a walk with a page that could not be read, and one whose pages listed no article
    link (the layout changed) did not: none can tell that an article left the section."""
    return not failed and links > 0 and (complete or pages_read >= page_cap)
