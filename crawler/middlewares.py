"""Downloader middlewares of govarchive."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
from urllib.parse import urlsplit

from scrapy.exceptions import IgnoreRequest, NotConfigured

from govarchive.crawler import addresses
from govarchive.crawler.blocking import block_reason

logger = logging.getLogger(__name__)


class PrivateAddressGuard:
    """Refuses requests to loopback, private, link-local and reserved addresses.

    A config typo or a hostile page must not make the crawler fetch from the operator's own
    network. Every request is checked before it is sent, redirect hops included
    (RedirectMiddleware's follow-up requests pass through the downloader middlewares again):
    the host name is resolved and every address it resolves to must be public. The
    connection itself goes through :class:`~crawler.addresses.PrivateAddressResolver`, which
    refuses a private answer too (DNS can change in between), and the address a download
    connected to is checked once more. Switched off by ``GOVARCHIVE_ALLOW_PRIVATE_ADDRESSES``
    (``crawl.allow_private_addresses``).
    """

    def __init__(self, stats):
        self.stats = stats
        self._verdicts: dict[str, str | None] = {}

    @classmethod
    def from_crawler(cls, crawler):
        if crawler.settings.getbool(addresses.ALLOW_SETTING):
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
            raise IgnoreRequest(refused)
        return

    def process_response(self, request, response, spider=None):
        address = getattr(response, "ip_address", None)
        if address is not None and not addresses.is_public_address(str(address)):
            self.stats.inc_value("govarchive/refused_private")
            host = urlsplit(request.url).hostname or str(address)
            raise IgnoreRequest(addresses.refusal(host, str(address)))
        return response

    async def _check_host(self, host: str) -> str | None:
        try:
            ipaddress.ip_address(host)
            found = [host]
        except ValueError:
            try:
                infos = await asyncio.get_running_loop().getaddrinfo(host, None)
            except (socket.gaierror, OSError):
                return None  # the download itself will report the DNS failure
            found = sorted({info[4][0] for info in infos})
        private = [a for a in found if not addresses.is_public_address(a)]
        if private:
            return addresses.refusal(host, private[0])
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
