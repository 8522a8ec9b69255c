"""Incremental list walks (crawler.walk): an unchanged section costs one conditional request
per start URL, a changed one is walked until a page of known links, full walks (first crawl,
weekly, ``--max-list-pages``) are the only ones that delist; a quiet run is ``ok``, a run
whose list pages gave no article links fails and alerts after ``no_links_alert_after``."""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime, timedelta

import pytest
from scrapy import Request
from warcio.archiveiterator import ArchiveIterator

from govarchive.crawler.links import ListRequest
from govarchive.crawler.revisit import REVISIT_META
from govarchive.crawler.walk import (
    AFTER_FAILURE,
    COMMAND_LINE,
    CONFIGURED,
    DUE,
    FIRST_CRAWL,
    SectionWalks,
    WalkPlan,
    plan_walk,
    walked_in_full,
)
from govarchive.scheduler.alerts import alert_for
from govarchive.settings import ConfigError, load_settings
from govarchive.storage import SectionWalk, Store
from govarchive.storage.revisits import RevisitTarget
from tests.builders import FakeCrawl
from tests.crawling import make_project, site_source

START = "https://www.gov.cn/lianbo/difang/index.htm"
NOW = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
WEEK = timedelta(days=7)
VALIDATORS = RevisitTarget(None, START, '"abc"', "Mon, 07 Dec 2026 07:00:00 GMT", "sha1:X",
                           "<urn:uuid:1>", NOW - WEEK, START)


# ---- the policy ---------------------------------------------------------------------------


def _plan(last_walk=NOW - timedelta(hours=1), last_full=NOW - timedelta(days=1), **options):
    state = SectionWalk(START, last_walk, last_full, VALIDATORS, last_links=10)
    return plan_walk(state, **{"walk": "until-known", "full_walk_every": WEEK, "now": NOW,
                               **options})


def test_a_walked_section_is_walked_until_known_with_its_validators():
    plan = _plan()
    assert (plan.full, plan.mode, plan.reason, plan.validators) == (
        False, "until-known", None, VALIDATORS)


@pytest.mark.parametrize(("state", "options", "reason"), [
    ({"last_walk": None, "last_full": None}, {}, FIRST_CRAWL),
    ({}, {"command_line_pages": True}, COMMAND_LINE),
    ({}, {"walk": "all"}, CONFIGURED),
    ({"last_full": NOW - WEEK}, {}, DUE),
    ({"last_full": None}, {}, DUE),  # walked, never in full (an until-known walk went first)
    # The last run failed (a full disk, a timeout): what it listed may never have been fetched.
    ({}, {"last_run_ok": False}, AFTER_FAILURE),
])
def test_full_walks(state, options, reason):
    plan = _plan(**state, **options)
    assert (plan.full, plan.mode, plan.reason, plan.validators) == (True, "all", reason, None)


def test_no_periodic_full_walk_without_an_interval_and_unknown_modes_are_refused():
    assert not _plan(last_full=None, full_walk_every=None).full
    with pytest.raises(ValueError, match="until-known"):
        _plan(walk="some")


def test_only_the_first_list_request_of_an_until_known_walk_is_conditional():
    walks = SectionWalks([_plan()])
    first = walks.first_request(Request(START, meta={"start": START}))
    assert first.headers.get("If-None-Match") == b'"abc"'
    assert first.headers.get("If-Modified-Since") == b"Mon, 07 Dec 2026 07:00:00 GMT"
    assert first.meta[REVISIT_META] is VALIDATORS
    assert first.meta["handle_httpstatus_list"] == [304]
    # A full walk, a section without a plan, and a request for another URL: unconditional.
    for walks, url in ((SectionWalks([_plan(walk="all")]), START), (SectionWalks(), START),
                       (SectionWalks([_plan()]), START + "?page=2")):
        request = walks.first_request(Request(url, meta={"start": START}))
        assert b"If-None-Match" not in request.headers and REVISIT_META not in request.meta
    # Validators without ETag or Last-Modified send nothing either.
    bare = RevisitTarget(None, START, None, None, None, "<urn:uuid:1>", NOW, START)
    plan = WalkPlan(START, False, None, bare)
    assert REVISIT_META not in SectionWalks([plan]).first_request(
        Request(START, meta={"start": START})).meta


def test_an_until_known_walk_stops_after_a_page_of_known_links_and_a_full_walk_goes_on():
    walks = SectionWalks([_plan(), WalkPlan("http://other/", True, DUE)])
    assert walks.goes_on(START, 1) and not walks.goes_on(START, 0)
    assert walks.goes_on("http://other/", 0)
    assert walks.goes_on("http://unplanned/", 0)  # walked in full, as before walk plans
    # One list page at a time until known (so it can stop before the next is asked for),
    # with the form it is POSTed with; a page found earlier waits its turn.
    p2 = ListRequest("p2")
    p3 = ListRequest("p3", "POST", "startrecord=31", "application/x-www-form-urlencoded")
    sent = {ListRequest(START).key}
    assert walks.to_follow(START, [p2, p3], sent) == [p2]
    assert walks.unread(START, [], sent | {p2.key}) == [p3]
    assert walks.to_follow(START, [], sent | {p2.key}) == [p3]
    assert walks.to_follow(START, [p2], sent | {p2.key, p3.key}) == []
    assert walks.unread(START, [p2], sent | {p2.key, p3.key}) == []
    assert walks.to_follow("http://other/", [p2, p3], sent) == [p2, p3]


def test_walked_in_full():
    def full(complete=True, failed=False, pages_read=1, page_cap=5, links=10):
        return walked_in_full(complete=complete, failed=failed, pages_read=pages_read,
                              page_cap=page_cap, links=links)

    assert full()
    assert full(complete=False, pages_read=5)  # capped at max_list_pages
    assert not full(complete=False, pages_read=2)  # an until-known walk that stopped
    assert not full(complete=False, failed=True, pages_read=5)  # a page unread
    assert not full(links=0)  # the layout changed: absence proves nothing


def test_a_section_whose_last_walk_listed_no_links_is_asked_for_unconditionally():
    state = SectionWalk(START, NOW - timedelta(hours=1), NOW - timedelta(days=1), VALIDATORS,
                        last_links=0)
    plan = plan_walk(state, walk="until-known", full_walk_every=WEEK, now=NOW)
    assert (plan.full, plan.validators) == (False, None)


# ---- settings -----------------------------------------------------------------------------


def _config(tmp_path, text: str):
    path = tmp_path / "govarchive.toml"
    path.write_text(text, encoding="utf-8")
    return path


SOURCE = '[[sources]]\nname = "s"\nstart_urls = ["https://www.gov.cn/l/index.htm"]\n'


def test_walk_settings_and_their_defaults(tmp_path):
    settings = load_settings(_config(tmp_path, SOURCE), env={})
    source = settings.source("s")
    assert (source.walk, source.full_walk_every) == ("until-known", WEEK)
    assert settings.service.no_links_alert_after == 2
    settings = load_settings(_config(tmp_path, SOURCE + 'walk = "all"\nfull_walk_every = "1d"\n'),
                             env={})
    assert (settings.source("s").walk, settings.source("s").full_walk_every) == (
        "all", timedelta(days=1))
    for bad, words in (('walk = "some"', "walk"), ('full_walk_every = "0s"', "full_walk_every")):
        with pytest.raises(ConfigError, match=words):
            load_settings(_config(tmp_path, SOURCE + bad + "\n"), env={})


def test_the_old_empty_alert_after_is_read_as_no_links_alert_after_with_a_warning(
        tmp_path, caplog):
    with caplog.at_level(logging.WARNING):
        settings = load_settings(
            _config(tmp_path, "[service]\nempty_alert_after = 4\n" + SOURCE), env={})
    assert settings.service.no_links_alert_after == 4
    assert "empty_alert_after is deprecated" in caplog.text
    assert "no_links_alert_after" in caplog.text
    with pytest.raises(ConfigError, match="empty_alert_after"):
        load_settings(_config(tmp_path, "[service]\nempty_alert_after = 4\n"
                              "no_links_alert_after = 3\n" + SOURCE), env={})


# ---- storage: list walks and delisting ----------------------------------------------------


def test_section_walks_remember_walks_and_read_validators_from_captures(store):
    crawl = FakeCrawl(store, fields={"title": "通知", "body_text": "关于做好防汛工作的通知。" * 8})
    assert store.section_walks("govcn", [START]) == [SectionWalk(START)]
    page = crawl.capture(START, NOW - WEEK)
    crawl.ingest(captures=[page, crawl.capture(START, NOW - timedelta(days=1), status=304)])
    crawl.listing(START, NOW - timedelta(days=3), ["/a.htm"], full=True)
    crawl.listing(START, NOW - timedelta(days=2), [], full=False)
    crawl.listing(START, NOW - WEEK, ["/b.htm"], full=True)  # an older one, stored late
    (walk,) = store.section_walks("govcn", [START])
    assert (walk.last_walk_at, walk.last_full_walk_at, walk.last_links) == (
        NOW - timedelta(days=2), NOW - timedelta(days=3), 0)
    # The validators of the last 200 capture (not of the 304), pointing at its record.
    assert (walk.validators.etag, walk.validators.refers_to, walk.validators.url) == (
        '"abc"', page.record_id, START)
    # Walk times are per source; captures are of a URL, whoever fetched it.
    (other,) = store.section_walks("other", [START])
    assert (other.last_walk_at, other.last_full_walk_at) == (None, None)


def test_an_until_known_listing_delists_nothing_and_a_full_one_does(store):
    crawl = FakeCrawl(store, fields={"title": "通知", "body_text": "关于做好防汛工作的通知。" * 8})
    kept, dropped = f"{START[:-9]}a.htm", f"{START[:-9]}b.htm"
    crawl.article(kept, NOW - WEEK, section_url=START)
    gone = crawl.article(dropped, NOW - WEEK, section_url=START, title="其他",
                         body_text="另一篇完全不同的文章内容。" * 8).article_id
    def events():
        return [e["kind"] for e in store.article_history(gone)["timeline"] if e["type"] == "event"]

    crawl.listing(START, NOW - timedelta(days=2), [kept], complete=True, full=False)
    assert events() == []
    crawl.listing(START, NOW - timedelta(days=1), [kept], complete=True, full=True)
    assert events() == ["delisted"]


# ---- end to end, against the govcn test site ----------------------------------------------


def _listed(server) -> list[str]:
    return list(server.expected["list_pages"])


def _sent(server) -> list:
    return [r for r in server.requests if r.path != "/robots.txt"]


def _records(paths) -> list:
    found = []
    for path in paths:
        with path.open("rb") as f:
            found += [r.rec_headers for r in ArchiveIterator(f)]
    return found


# These tests count list and article requests; page requisites (stylesheets, body images) are
# counted by tests/test_requisites.py.
NO_REQUISITES = {"requisites": "none"}


def _crawl(project, *args) -> dict:
    result = project.crawl("govcn", *args)
    run = project.runs()[0]
    assert result.returncode == (1 if run["status"] == "failed" else 0), result.stderr
    return run


def _delisted(project) -> list[str]:
    result = project.run("changes", "--json", "--kind", "delisted")
    assert result.returncode == 0, result.stderr
    return sorted(json.loads(line)["url"] for line in result.stdout.splitlines() if line)


@pytest.mark.slow
@pytest.mark.parametrize("validator", ["If-None-Match", "If-Modified-Since"])
def test_an_unchanged_source_costs_one_conditional_request(tmp_path, govcn_site, validator):
    # Without ETags the walk asks with the Last-Modified date of its last capture.
    govcn_site.etags = validator == "If-None-Match"
    project = make_project(tmp_path, [site_source("govcn", govcn_site)], crawl=NO_REQUISITES)
    assert _crawl(project)["status"] == "ok"
    first = len(_sent(govcn_site))
    assert first == len(_listed(govcn_site)) + len(govcn_site.expected["articles"])
    files = set(project.warc_files())
    start = govcn_site.expected["start"]
    govcn_site.clear_requests()

    run = _crawl(project)
    sent = _sent(govcn_site)
    assert [r.path for r in sent] == [start]
    assert sent[0].header(validator)
    assert (run["status"], run["new_articles"], run["error"]) == ("ok", 0, None)
    # The 304 is archived as a revisit of the last capture of the page.
    (revisit,) = [h for h in _records(sorted(set(project.warc_files()) - files))
                  if h.get_header("WARC-Type") == "revisit"]
    assert revisit.get_header("WARC-Target-URI") == govcn_site.url(start)
    assert revisit.get_header("WARC-Profile").endswith("server-not-modified")


@pytest.mark.slow
def test_walk_all_reads_every_list_page_every_run(tmp_path, govcn_site):
    """The old behaviour, kept as `walk = "all"`: the figure the until-known walk saves."""
    project = make_project(tmp_path, [site_source("govcn", govcn_site, walk="all")],
                           crawl=NO_REQUISITES)
    _crawl(project)
    govcn_site.clear_requests()
    assert _crawl(project)["status"] == "ok"
    sent = _sent(govcn_site)
    assert sorted(r.path for r in sent) == sorted(_listed(govcn_site))
    assert not any(r.header("If-None-Match") or r.header("If-Modified-Since") for r in sent)


@pytest.mark.slow
def test_a_list_without_validators_still_stops_at_known_links(tmp_path, hanweb_site):
    """A Hanweb column: its page sends no validators (neither ETag nor Last-Modified), its
    further records come from POSTs to the data proxy. An unchanged column costs one
    unconditional GET: its first 15 records are known, so no POST is made."""
    hanweb_site.etags = hanweb_site.dates = False
    project = make_project(tmp_path, [site_source("hanweb", hanweb_site)])
    assert project.crawl("hanweb").returncode == 0
    assert any(r.method == "POST" for r in hanweb_site.requests)
    hanweb_site.clear_requests()
    assert project.crawl("hanweb").returncode == 0
    sent = _sent(hanweb_site)
    assert [(r.method, r.path) for r in sent] == [("GET", hanweb_site.expected["start"])]
    assert not (sent[0].header("If-None-Match") or sent[0].header("If-Modified-Since"))
    run = project.runs()[0]
    assert (run["status"], run["new_articles"]) == ("ok", 0)


NEW_ARTICLE = "/lianbo/difang/202403/content_6937013.htm"


def _with_new_article(server, drop: str | None = None) -> None:
    """A new article at the top of the section's first page (and ``drop``'s link removed
    from whichever list page shows it)."""
    existing = "/lianbo/difang/202403/content_6937012.htm"
    page = server.page(existing).decode("utf-8")
    server.override(NEW_ARTICLE, body=page.replace("北京推出社区养老服务驿站运营新规",
                                                   "上海推出社区食堂建设新规"))
    start = server.expected["start"]
    listing = server.page(start).decode("utf-8").replace(
        "<ul>\n<li>", '<ul>\n<li><h4><a href="./202403/content_6937013.htm">上海推出社区食堂建设新规'
        "</a></h4></li>\n<li>", 1)
    server.override(start, body=listing)
    if drop is not None:
        name = drop.rsplit("/", 1)[-1]
        for path in _listed(server):
            html = server.page(path).decode("utf-8")
            kept = re.sub(rf'<li><h4><a href="[^"]*{re.escape(name)}".*?</li>\n', "", html)
            if kept != html:
                server.override(path, body=kept)


@pytest.mark.slow
def test_a_changed_first_page_is_walked_until_a_page_of_known_links(tmp_path, govcn_site):
    project = make_project(tmp_path, [site_source("govcn", govcn_site)], crawl=NO_REQUISITES)
    _crawl(project)
    _with_new_article(govcn_site)
    govcn_site.clear_requests()
    run = _crawl(project)
    pages = _listed(govcn_site)
    # Page 1 changed (a new link): read, and page 2 after it, which lists only known
    # articles; page 3 is not asked for. Of the articles only the new one is fetched.
    assert sorted(r.path for r in _sent(govcn_site)) == sorted([*pages[:2], NEW_ARTICLE])
    assert _sent(govcn_site)[0].header("If-None-Match")  # asked conditionally, answered 200
    assert (run["status"], run["new_articles"]) == ("ok", 1)


@pytest.mark.slow
def test_only_full_walks_delist_and_a_rebuild_agrees(tmp_path, govcn_site):
    project = make_project(tmp_path, [site_source("govcn", govcn_site)], crawl=NO_REQUISITES)
    _crawl(project)
    pages = _listed(govcn_site)
    second_page = govcn_site.page(pages[1]).decode("utf-8")
    dropped = re.findall(r'<li><h4><a href="(/lianbo/difang/\d+/content_\d+\.htm)"',
                         second_page)[1]
    dropped_url = govcn_site.url(dropped)
    _with_new_article(govcn_site, drop=dropped)

    # Until known: pages 1 and 2 read (the dropped article was on page 2), nothing delisted.
    govcn_site.clear_requests()
    _crawl(project)
    assert {r.path for r in _sent(govcn_site)} == {*pages[:2], NEW_ARTICLE}
    assert _delisted(project) == []
    # Unchanged: a 304, nothing delisted either.
    _crawl(project)
    assert _delisted(project) == []

    # The weekly full walk is due (here: after a second): every page read, the drop seen.
    config = project.config.read_text(encoding="utf-8")
    project.config.write_text(config + 'full_walk_every = "1s"\n', encoding="utf-8")
    govcn_site.clear_requests()
    _crawl(project)
    sent = _sent(govcn_site)
    assert sorted(r.path for r in sent) == sorted(pages)
    assert not any(r.header("If-None-Match") for r in sent)
    assert _delisted(project) == [dropped_url]

    # The archive alone gives the same delistings.
    project.rebuild_from_archive()
    assert _delisted(project) == [dropped_url]


@pytest.mark.slow
def test_a_quiet_section_never_alerts_and_one_that_lost_its_links_fails_and_alerts(
        tmp_path, govcn_site):
    project = make_project(tmp_path, [site_source("govcn", govcn_site)], crawl=NO_REQUISITES)
    for _ in range(3):
        assert _crawl(project)["status"] == "ok"
    store = Store(f"sqlite:///{project.root / 'data' / 'govarchive.db'}")
    try:
        def alert():
            run = project.runs()[0]
            return alert_for("govcn", run, lambda n: store.recent_runs("govcn", n), 2)

        assert alert() is None  # the quiet nights
        start = govcn_site.expected["start"]
        govcn_site.override(start, body="<html><head><meta charset='utf-8'></head><body>"
                                        "<div class='main'><p>栏目调整中</p></div></body></html>")
        run = _crawl(project)
        expected = f"no article links found on {govcn_site.url(start)}"
        assert (run["status"], run["error"]) == ("failed", expected)
        assert alert() is None  # once may be a glitch
        _crawl(project)
        raised = alert()
        assert raised.event == "runs_no_links" and expected in raised.message
    finally:
        store.close()
