"""Which addresses the crawler may connect to, and the DNS resolver that enforces it.

A config typo, a hostile page's link or redirect, or a name whose DNS answer changes between
two lookups (DNS rebinding) must not make the crawler fetch from the operator's own network.
:class:`~crawler.middlewares.PrivateAddressGuard` refuses each request (redirect hops
included) whose host resolves to a private address, with a clear line; this resolver is the
one Scrapy connects through, so the address a connection goes to is the address just checked,
whatever DNS answered the guard a moment before.
"""

from __future__ import annotations

import ipaddress
import logging

from scrapy.resolver import CachingThreadedResolver
from twisted.internet.error import DNSLookupError

logger = logging.getLogger(__name__)

ALLOW_SETTING = "GOVARCHIVE_ALLOW_PRIVATE_ADDRESSES"
HINT = "allow_private_addresses = true in [crawl] allows it"


def is_public_address(address: str) -> bool:
    """Whether ``address`` is on the public internet (not loopback, private, link-local,
    reserved, shared or multicast)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    return ip.is_global and not ip.is_multicast


def refusal(host: str, address: str) -> str:
    """The one line a refused request is reported with."""
    if host == address:
        return f"refused: {host} is a private address ({HINT})"
    return f"refused: {host} resolves to {address}, a private address ({HINT})"


class PrivateAddressRefused(DNSLookupError):
    """A name resolved to a private address: no connection is made.

    A DNSLookupError, so Twisted's endpoint ends the attempt quietly as a failed lookup
    (any other error from a resolver is logged with a traceback)."""


class PrivateAddressResolver(CachingThreadedResolver):
    """Scrapy's caching resolver (``TWISTED_DNS_RESOLVER``) that answers no private address
    unless ``GOVARCHIVE_ALLOW_PRIVATE_ADDRESSES``.

    Every connection of the crawl resolves here, also for cached answers, so the check holds
    for the address actually connected to."""

    def __init__(self, reactor, cache_size: int, timeout: float, allow_private: bool = False):
        super().__init__(reactor, cache_size, timeout)
        self.allow_private = allow_private

    @classmethod
    def from_crawler(cls, crawler, reactor):
        resolver = super().from_crawler(crawler, reactor)
        resolver.allow_private = crawler.settings.getbool(ALLOW_SETTING)
        return resolver

    def getHostByName(self, name: str, timeout=()):  # noqa: N802 - Twisted's interface
        answer = super().getHostByName(name, timeout)
        if self.allow_private:
            return answer
        return answer.addCallback(self._checked, name)

    @staticmethod
    def _checked(address: str, name: str) -> str:
        if not is_public_address(address):
            message = refusal(name, address)
            logger.warning("%s", message)
            raise PrivateAddressRefused(message)
        return address
