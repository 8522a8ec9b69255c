"""What every answer of the UI carries, and what every request may ask, against hostile
visitors and hostile archived pages.

The headers: a Content-Security-Policy that runs no inline script and loads nothing from
elsewhere (the pages use no JavaScript; their one stylesheet is under /static), so archived
text that slipped through as markup still could not run; no MIME sniffing; no Referer to the
government sites the pages link to. The caps: a query string or a search of any size would
otherwise reach the database.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import HTTPException, Path, Request

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
]
MAX_QUERY_STRING_BYTES = 4096
MAX_ID = 2**63 - 1  # the largest id either database stores; a larger one cannot be a row
# An article id in a path: a larger number would overflow the database's integer (a 500).
ArticleId = Annotated[int, Path(ge=1, le=MAX_ID, description="the article's id")]
MAX_SEARCH_CHARS = 200  # a search of ``q`` longer than this is refused, not run


class SecurityHeaders:
    """ASGI middleware adding :data:`SECURITY_HEADERS` to every HTTP response (pages, API,
    feeds, static files, errors)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                names = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(n, v) for n, v in SECURITY_HEADERS if n not in names]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def capped_request(request: Request) -> None:
    """Refuses (4xx, with the reason) a query string or a search too long to be a real one."""
    size = len(request.scope.get("query_string", b""))
    if size > MAX_QUERY_STRING_BYTES:
        raise HTTPException(414, f"the query string is {size} bytes long; "
                                 f"at most {MAX_QUERY_STRING_BYTES} are accepted")
    for q in request.query_params.getlist("q"):
        if len(q) > MAX_SEARCH_CHARS:
            raise HTTPException(400, f"q is {len(q)} characters long; "
                                     f"a search may have at most {MAX_SEARCH_CHARS}")
