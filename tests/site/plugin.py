"""pytest fixtures serving the test sites; enable with ``pytest_plugins = ["tests.site.plugin"]``.

Each fixture starts a fresh server (fresh request log, no overrides) for the test and stops
it afterwards; starting one takes a few milliseconds.
"""

from __future__ import annotations

import pytest

from tests.site.bulk import BulkSite
from tests.site.families import FamiliesSite
from tests.site.hanweb import HanwebSite
from tests.site.json_lists import JsonListsSite
from tests.site.server import SiteServer


def _serve(site, **options):
    with SiteServer(site, **options) as server:
        yield server


@pytest.fixture
def govcn_site():
    """www.gov.cn-style 地方政务 section, UTF-8 (``.expected`` is sites/govcn/expected.json)."""
    yield from _serve("govcn")


@pytest.fixture
def ministry_site():
    """TRS-style ministry 通知公告 section in GB2312, script-only pagination, attachments."""
    yield from _serve("ministry")


@pytest.fixture
def big5_site():
    """Traditional-Chinese mirror in Big5, one page without a charset in its Content-Type."""
    yield from _serve("big5")


@pytest.fixture
def quirks_site():
    """Charset lie, 404 list, PDF for a page, gzip, two cookies, query URL, 301, slow page."""
    yield from _serve("quirks")


@pytest.fixture
def bulk_site():
    """A generated 5,000-article section (250 list pages), pages made on request."""
    yield from _serve(BulkSite(5000))


@pytest.fixture
def hanweb_site():
    """A Hanweb JCMS column: 15 records in the page's datastore, 30 more from the data proxy."""
    yield from _serve(HanwebSite())


@pytest.fixture
def json_lists_site():
    """Lists delivered as JSON: a gov.cn JSON file, a JPaaS unit API, a ucms POST API and an
    API only a ``[sources.list_api]`` config names (``.expected["sections"]``)."""
    yield from _serve(JsonListsSite())


@pytest.fixture
def families_site():
    """One section per list family: script pagers, gotoCurrentPage, reverse numbering, ASP.NET,
    pseudo-static PHP, a redirect stub and a channel hub (``.expected["starts"]``)."""
    yield from _serve(FamiliesSite())


@pytest.fixture
def site_server():
    """A factory: ``site_server("govcn", gzip_all=True)`` or ``site_server(BulkSite(300))``;
    every server it starts is stopped after the test."""
    started: list[SiteServer] = []

    def start(site, **options) -> SiteServer:
        server = SiteServer(site, **options).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
