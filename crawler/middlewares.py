"""Downloader middlewares of govarchive."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
from urllib.parse import urlsplit

from scrapy.exceptions import IgnoreRequest, NotConfigured

from govarchive.crawler.blocking import block_reason

logger = logging.getLogger(__name__)


def is_public_address(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    return ip.is_global and not ip.is_multicast


class PrivateAddressGuard:
    """Refuses requests to loopback, private, link-local and reserved addresses.

    A config typo or a hostile page must not make the crawler fetch from the operator's own
    network. The host name is resolved before the request is sent, and the address the
    download actually connected to is checked again afterwards (DNS can change in between).
    Switched off by ``GOVARCHIVE_ALLOW_PRIVATE_ADDRESSES`` (``crawl.allow_private_addresses``).
    """

    HINT = "set allow_private_addresses = true in [crawl] to allow it"

    def __init__(self, stats):
        self.stats = stats
        self._verdicts: dict[str, str | None] = {}

    @classmethod
    def from_crawler(cls, crawler):
        if crawler.settings.getbool("GOVARCHIVE_ALLOW_PRIVATE_ADDRESSES"):
            raise NotConfigured
        return cls(crawler.stats)

    async def process_request(self, request, spider=None):
        host = urlsplit(request.url).hostname
        if not host:
            return
        if host not in self._verdicts:
            self._verdicts[host] = await self._check_host(host)
        refused = self._verdicts[host]
        if refused:
            self.stats.inc_value("govarchive/refused_private")
            raise IgnoreRequest(f"refusing {request.url}: {refused} ({self.HINT})")
        return

    def process_response(self, request, response, spider=None):
        address = getattr(response, "ip_address", None)
        if address is not None and not is_public_address(str(address)):
            self.stats.inc_value("govarchive/refused_private")
            raise IgnoreRequest(
                f"refusing {request.url}: it connected to private address {address} ({self.HINT})"
            )
        return response

    async def _check_host(self, host: str) -> str | None:
        try:
            ipaddress.ip_address(host)
            addresses = [host]
        except ValueError:
            try:
                infos = await asyncio.get_running_loop().getaddrinfo(host, None)
            except (socket.gaierror, OSError):
                return None  # the download itself will report the DNS failure
            addresses = sorted({info[4][0] for info in infos})
        private = [a for a in addresses if not is_public_address(a)]
        if private:
            return f"{host} resolves to private address {private[0]}"
        return None


class HostBlocked(IgnoreRequest):
    """A request not sent: its host answered with an anti-bot challenge earlier in the run."""


class ChallengeGuard:
    """Stops Scrapy from following an anti-bot challenge redirect, and backs off from a host
    that challenged us.

    A 307 that sets a ``wzws_cid`` cookie leads to a challenge, not to the page: following it
    (with the cookie) is exactly what we must not do. It sits on the downloader side of
    RedirectMiddleware, so it sees the answer first and hands it on as an error response that
    the spider records as *blocked* (see :mod:`crawler.blocking`). Once the spider has a host
    in ``blocked``, requests still queued for it (revisits are queued at the start) are not
    sent: hammering a wall only hardens it, and an unsent revisit changes nothing stored.
    """

    def __init__(self, crawler):
        self.crawler = crawler
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_request(self, request, spider=None):
        blocked = getattr(spider or self.crawler.spider, "blocked", None) or {}
        host = urlsplit(request.url).hostname or ""
        if host in blocked:
            self.stats.inc_value("govarchive/held_back")
            raise HostBlocked(f"{host} is behind an anti-bot wall ({blocked[host]})")

    def process_response(self, request, response, spider=None):
        if block_reason(response.status, response.headers) is not None:
            request.meta["dont_redirect"] = True
            self.stats.inc_value("govarchive/challenges")
        return response
