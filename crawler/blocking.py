"""Recognising anti-bot walls, so a challenge is recorded as *blocked* and never as content.

Chinese government sites sit behind a few commercial walls: Ruishu (瑞数) answers 412 with a
script challenge, Jiasule (加速乐) answers 521 with a cookie-setting script, and the 安全狗/wzws
family answers 307 with a ``wzws_cid`` cookie. We do not try to defeat them: we archive the
answer (it is evidence too), mark the fetch blocked and back off from the host.
"""

from __future__ import annotations

BLOCK_STATUSES = {412: "ruishu-412", 521: "jiasule-521"}
_CHALLENGE_COOKIES = (b"wzws_cid", b"__jsluid", b"__jsl_clearance")


def block_reason(status: int, headers) -> str | None:
    """Why this answer is an anti-bot challenge rather than the page, or None.

    ``headers`` is a Scrapy ``Headers`` object (or any mapping with ``getlist``).
    """
    if status in BLOCK_STATUSES:
        return BLOCK_STATUSES[status]
    if status in (302, 303, 307):
        for cookie in headers.getlist(b"Set-Cookie"):
            if any(name in cookie for name in _CHALLENGE_COOKIES):
                return f"challenge-cookie-{status}"
        location = headers.get(b"Location") or b""
        if b"wzws" in location:
            return f"challenge-redirect-{status}"
    return None
