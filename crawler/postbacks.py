"""ASP.NET WebForms pagers: ``javascript:__doPostBack('AspNetPager1','2')`` links.

Such a list's further pages have no address of their own: the browser posts the page's form
back to it with ``__EVENTTARGET`` (the pager control) and ``__EVENTARGUMENT`` (the page
number) beside the form's hidden state (``__VIEWSTATE``, ``__EVENTVALIDATION``, ...). Each
is a POST list request. Only the next page is asked, with the state of the page before, as
a browser clicking 下一页 would: a server may refuse, or answer page 1 to, the state of
another page. The state differs on every page, so a list request's key leaves it out
(:data:`VOLATILE_FIELDS`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import parse_qsl, urlencode

from govarchive.crawler.pagers import is_next_label

# The form's state fields: they change with every answer and name no page.
VOLATILE_FIELDS = frozenset({"__VIEWSTATE", "__VIEWSTATEGENERATOR", "__EVENTVALIDATION",
                             "__PREVIOUSPAGE", "__VIEWSTATEENCRYPTED", "__LASTFOCUS"})
_POSTBACK = re.compile(r"""__doPostBack\(\s*['"]([^'"]+)['"]\s*,\s*['"]([^'"]*)['"]\s*\)""")
_POSTED_INPUTS = {"hidden", "text", "search", ""}


def postback_pages(doc, absolute: Callable[[str | None], str | None], page_url: str,
                   current: dict[str, str] | None = None) -> list[tuple[str, str]]:
    """The next page of an ASP.NET pager as [(url, form-urlencoded body)], or [] on the last
    page; ``current`` is the form this page was posted with (its page number)."""
    calls: list[tuple[str, str, str]] = []  # (target, argument, link text)
    for anchor in doc.iter("a"):
        match = _POSTBACK.search(anchor.get("href") or "") or _POSTBACK.search(
            anchor.get("onclick") or "")
        if match:
            calls.append((match.group(1), match.group(2), anchor.text_content().strip()))
    if not calls:
        return []
    form = _state_form(doc)
    if form is None:
        return []  # not a WebForms postback
    fields = _fields(form)
    target = absolute(form.get("action") or page_url) or page_url
    now = _page_number((current or {}).get("__EVENTARGUMENT")) or 1
    # The 下一页 link; without one, the page numbered after this one.
    following = [(t, a) for t, a, text in calls
                 if is_next_label(text) and (_page_number(a) or now + 1) > now]
    following += [(t, a) for t, a, text in calls
                  if text.isdigit() and _page_number(a) == now + 1]
    if not following:
        return []
    event_target, argument = following[0]
    body = urlencode({**fields, "__EVENTTARGET": event_target, "__EVENTARGUMENT": argument})
    return [(target, body)]


def page_key(body: str | None) -> str | None:
    """A postback body without its state fields: what tells two pages of a pager apart."""
    if not body or "__VIEWSTATE" not in body and "__EVENTVALIDATION" not in body:
        return body
    kept = [(k, v) for k, v in parse_qsl(body, keep_blank_values=True)
            if k not in VOLATILE_FIELDS]
    return urlencode(kept)


def _state_form(doc):
    """The form that posts the pager back: the one holding the WebForms state, or None."""
    return next((form for form in doc.iter("form")
                 if any(i.get("name") in ("__VIEWSTATE", "__EVENTVALIDATION")
                        for i in form.iter("input"))), None)


def _fields(form) -> dict[str, str]:
    fields: dict[str, str] = {}
    for element in form.iter("input"):
        name = element.get("name")
        kind = (element.get("type") or "").lower()
        if name and kind in _POSTED_INPUTS:
            fields[name] = element.get("value") or ""
    return fields


def _page_number(argument: str | None) -> int | None:
    """The page an ``__EVENTARGUMENT`` asks for (``2``, ``Page$2``), when it names one."""
    match = re.fullmatch(r"(?:Page\$)?(\d{1,6})", (argument or "").strip())
    return int(match.group(1)) if match else None
