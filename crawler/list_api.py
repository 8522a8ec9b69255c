"""A section walked through the list API its config names (``[sources.list_api]``).

The escape hatch for a site whose JSON list the spider cannot find by itself: the config
gives the request (``url`` and ``body`` with a ``{page}`` placeholder, ``method``,
``content_type``, ``first_page``) and where the answer keeps the list (``items``, a dotted
path to the array; ``url_field``, ``title_field``, ``date_field`` within an item, or a
``url_template`` such as ``https://host/art/{id}.html`` filled from the item). Pages are asked
one after the other, from ``first_page``, until a page lists nothing, the total the answer
gives is reached, or ``max_list_pages``.

``spec`` is the ``[sources.list_api]`` table as a dict (``ListApiSettings.model_dump()``).
"""

from __future__ import annotations

import re
from typing import Any

from govarchive.crawler.api_pages import FORM_TYPE, JSON_TYPE, ApiCall, answer_totals
from govarchive.crawler.json_lists import JsonItem, load_json
from govarchive.crawler.list_items import absolute_url

PATH_RE = re.compile(r"^[^.\s{}]+(?:\.[^.\s{}]+)*$")
_PLACEHOLDER_RE = re.compile(r"\{([^{}]+)\}")


class ListApiError(ValueError):
    """The answer does not hold what ``[sources.list_api]`` says it does."""


def api_call(spec: dict, page: int) -> ApiCall:
    """The request for page ``page``."""
    url = spec["url"].replace("{page}", str(page))
    method = (spec.get("method") or "GET").upper()
    body = spec.get("body")
    if body is None or method == "GET":
        return ApiCall(url, method)
    content_type = spec.get("content_type") or (
        JSON_TYPE if body.lstrip()[:1] in ("{", "[") else FORM_TYPE)
    return ApiCall(url, method, body.replace("{page}", str(page)), content_type)


def resolve(value: Any, path: str) -> Any:
    """The value at a dotted path (``data.list``; a number picks an array element); raises
    KeyError when the path leads nowhere."""
    for part in path.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            raise KeyError(part)
    return value


def read_api_page(text: str, url: str, spec: dict,
                  page: int) -> tuple[list[JsonItem], ApiCall | None]:
    """(the items of page ``page``'s answer at ``url``, the next page's request or None)."""
    try:
        data = load_json(text)
    except ValueError:
        raise ListApiError(f"list_api answer from {url} is not JSON") from None
    items_path = spec["items"]
    try:
        items = resolve(data, items_path)
    except KeyError:
        raise ListApiError(f'list_api.items "{items_path}" matched nothing in {url}') from None
    if not isinstance(items, list):
        raise ListApiError(f'list_api.items "{items_path}" in {url} is a '
                           f"{type(items).__name__}, not an array")
    links: list[JsonItem] = []
    seen: set[str] = set()
    missing: str | None = None
    for item in items:
        try:
            target = _item_url(item, spec)
        except KeyError as exc:
            missing = str(exc.args[0])
            continue
        absolute = absolute_url(url, target) if target else None
        if absolute and absolute not in seen:
            seen.add(absolute)
            links.append(JsonItem(absolute, _optional(item, spec.get("title_field")),
                                  _optional(item, spec.get("date_field"))))
    if items and not links:
        raise ListApiError(f"{missing} matched nothing in the items of {url}" if missing
                           else f"no item of {url} gave an http(s) URL")
    if not items:
        return links, None
    totals = answer_totals(data)
    pages = totals.get("pages")
    size = totals.get("size")
    if pages is None and totals.get("records") is not None and size:
        pages = -(-totals["records"] // size)
    first = spec.get("first_page", 1)
    if pages is not None and page - first + 1 >= pages:
        return links, None
    return links, api_call(spec, page + 1)


def _item_url(item: Any, spec: dict) -> str:
    template = spec.get("url_template")
    if template:
        def fill(match: re.Match) -> str:
            try:
                return str(resolve(item, match.group(1)))
            except KeyError:
                raise KeyError(f'list_api.url_template "{{{match.group(1)}}}"') from None
        return _PLACEHOLDER_RE.sub(fill, template)
    field = spec.get("url_field") or "url"
    try:
        value = resolve(item, field)
    except KeyError:
        raise KeyError(f'list_api.url_field "{field}"') from None
    return str(value).strip() if value is not None else ""


def _optional(item: Any, path: str | None) -> str:
    if not path:
        return ""
    try:
        value = resolve(item, path)
    except KeyError:
        return ""
    return " ".join(str(value).split()) if value is not None else ""


def page_of(spec: dict, call: ApiCall, pages: int) -> int | None:
    """Which page ``call`` asks (``first_page`` onwards, up to ``pages`` of them), or None."""
    first = spec.get("first_page", 1)
    for page in range(first, first + pages):
        wanted = api_call(spec, page)
        if (wanted.method, wanted.url, wanted.body or None) == \
                (call.method.upper(), call.url, call.body or None):
            return page
    return None
