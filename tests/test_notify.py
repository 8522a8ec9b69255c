"""Notifications: [[watches]] settings, the deliveries outbox (fan-out, retries with backoff,
digests) and the JSON webhook, with a clock the tests move instead of sleeping."""

from __future__ import annotations

from datetime import timedelta

import pytest

from govarchive.notify import ChannelError, deliver_due, message_text
from govarchive.settings import ConfigError, load_settings
from govarchive.storage import WatchFilter
from tests.builders import T0, FakeCrawl, add_change_event
from tests.notify_receivers import JsonReceiver, write_watch_config

ALL_BUT_NEW = ("edited", "removed", "restored", "delisted", "moved")


class Clock:
    def __init__(self, now=T0):
        self.now = now

    def __call__(self):
        return self.now


@pytest.fixture
def receiver():
    server = JsonReceiver()
    yield server
    server.close()


def crawl_two_sources(store):
    """Three articles: one of source a about 疫情, one of a and one of b about other things."""
    store.set_sources({"a": "来源a", "b": "来源b"})
    crawl = FakeCrawl(store, source="a", base="https://example.org")
    covid = crawl.article("/a/1.htm", T0, title="疫情防控通知", body_text="关于疫情防控的通知正文。")
    roads = crawl.article("/a/2.htm", T0, title="道路施工", body_text="道路施工的通知正文。")
    other = crawl.article("/b/1.htm", T0, source="b", title="疫情通报",
                          body_text="疫情通报的正文内容。")
    # The articles' own "new" events go to no watch: each test sees only the events it adds.
    store.deliveries.fan_out([], now=T0)
    return covid.article_id, roads.article_id, other.article_id


# ---- settings --------------------------------------------------------------------------------


@pytest.mark.parametrize(("watch", "line", "message"), [
    ('notify = ["foo://bar"]', 3, "notify URL #1: unknown notification scheme 'foo://'"),
    ('notify = ["json://x/"]\nquery = \'"unclosed\'', 4, "invalid query: unbalanced quote"),
    ('notify = ["json://x/"]\nkinds = ["edited", "renamed"]', 4, "unknown change kind 'renamed'"),
    ('notify = ["json://x/"]\nsources = ["a", "zz"]', 4, 'watch "w": unknown source "zz"'),
    ('webhook = "ftp://x/"', 3, "invalid webhook URL"),
    ('webhook = "http://x/"\ndigest = "soon"', 4, "invalid duration 'soon'"),
    ("", 1, 'watch "w" has no channel'),
])
def test_a_bad_watch_is_a_config_error_naming_its_line(tmp_path, watch, line, message):
    path = write_watch_config(tmp_path, "sqlite:///x.db", f'[[watches]]\nname = "w"\n{watch}\n')
    with pytest.raises(ConfigError) as info:
        load_settings(path, env={})
    first_line = len(path.read_text().split("[[watches]]")[0].splitlines())
    assert f"govarchive.toml:{first_line + line}: {message}" in str(info.value)


def test_watch_names_are_unique_and_defaults_leave_out_new(tmp_path):
    one = '[[watches]]\nname = "w"\nwebhook = "http://x/"\n'
    path = write_watch_config(tmp_path, "sqlite:///x.db", one * 2)
    with pytest.raises(ConfigError, match='duplicate watch name "w"'):
        load_settings(path, env={})
    settings = load_settings(write_watch_config(tmp_path, "sqlite:///x.db", one), env={})
    (watch,) = settings.watches
    assert watch.kinds == ALL_BUT_NEW and watch.sources is None and watch.digest is None
    assert settings.web.base_url == "https://archive.example.org"


# ---- fan-out ---------------------------------------------------------------------------------


def test_fan_out_matches_sources_kinds_and_query_once(store):
    covid, roads, other = crawl_two_sources(store)
    events = {
        "covid-new": add_change_event(store, covid, "new"),
        "covid-edit": add_change_event(store, covid, "edited", summary="正文: 二十 → 十五"),
        "roads-removed": add_change_event(store, roads, "removed", detail="404"),
        "other-edit": add_change_event(store, other, "edited"),
        "history": add_change_event(store, covid, "restored", fanned_out=T0),
    }
    watches = [
        WatchFilter("everything", kinds=("new", *ALL_BUT_NEW)),
        WatchFilter("edits-of-a", kinds=("edited",), sources=("a",)),
        WatchFilter("covid", kinds=ALL_BUT_NEW, query="疫情"),
        WatchFilter("nothing", kinds=("moved",)),
    ]
    assert store.deliveries.fan_out(watches, now=T0) == 4

    def owed(watch):
        return [d["event"]["id"] for d in store.deliveries.pending(watch)]

    assert owed("everything") == [events[k] for k in
                                  ("covid-new", "covid-edit", "roads-removed", "other-edit")]
    assert owed("edits-of-a") == [events["covid-edit"]]
    assert owed("covid") == [events["covid-edit"], events["other-edit"]]
    assert owed("nothing") == []
    assert store.deliveries.fan_out(watches, now=T0) == 0  # idempotent
    assert len(store.deliveries.pending()) == 7
    later = add_change_event(store, roads, "edited")
    assert store.deliveries.fan_out(watches, now=T0) == 1
    assert owed("edits-of-a") == [events["covid-edit"], later]
    event = store.deliveries.pending("edits-of-a")[0]["event"]
    assert event == {
        "id": events["covid-edit"], "kind": "edited", "at": "2026-03-01T08:00:00+00:00",
        "source": "a", "source_title": "来源a", "article_id": covid,
        "url": "https://example.org/a/1.htm", "title": "疫情防控通知", "version": 1,
        "changed": [], "summary": "正文: 二十 → 十五", "detail": None,
    }


# ---- delivering ------------------------------------------------------------------------------


def test_the_webhook_gets_every_matching_event_once(store, database_url, tmp_path, receiver):
    covid, roads, other = crawl_two_sources(store)
    path = write_watch_config(tmp_path, database_url, f"""
[[watches]]
name = "a-watch"
sources = ["a"]
webhook = "{receiver.url}"
""")
    settings = load_settings(path, env={})
    ids = [add_change_event(store, covid, "edited", summary="正文: 二十 → 十五"),
           add_change_event(store, covid, "new"),
           add_change_event(store, other, "removed"),
           add_change_event(store, roads, "removed", detail="404")]
    report = deliver_due(settings, store, now=Clock())
    assert (report.fanned_out, report.messages, report.failures) == (4, 2, [])
    assert receiver.event_ids() == [ids[0], ids[3]]
    assert all(body["watch"] == "a-watch" for body in receiver.bodies)
    assert receiver.bodies[0]["events"][0]["summary"] == "正文: 二十 → 十五"
    assert deliver_due(settings, store, now=Clock()).messages == 0
    assert receiver.requests == 2 and store.deliveries.pending() == []


def test_a_down_receiver_keeps_deliveries_pending_with_backoff(store, database_url, tmp_path,
                                                               receiver):
    covid, roads, _ = crawl_two_sources(store)
    path = write_watch_config(tmp_path, database_url,
                              f'[[watches]]\nname = "w"\nwebhook = "{receiver.url}"\n')
    settings = load_settings(path, env={})
    first = add_change_event(store, covid, "edited")
    second = add_change_event(store, roads, "removed")
    clock = Clock()
    receiver.status = 503
    report = deliver_due(settings, store, now=clock)
    assert report.failures == [("w", "webhook answered HTTP 503")]
    (failed, waiting) = store.deliveries.pending("w")
    assert (failed["attempts"], failed["last_error"]) == (1, "webhook answered HTTP 503")
    assert failed["next_attempt_at"] == (T0 + timedelta(seconds=30)).isoformat()
    assert waiting["attempts"] == 0  # not tried while the channel is down

    clock.now = T0 + timedelta(seconds=5)  # the second is due; it fails as well
    deliver_due(settings, store, now=clock)
    clock.now = T0 + timedelta(seconds=40)  # the first is due again: its second failure
    deliver_due(settings, store, now=clock)
    (failed, waiting) = store.deliveries.pending("w")
    assert (failed["attempts"], waiting["attempts"]) == (2, 1)
    assert failed["next_attempt_at"] == (clock.now + timedelta(seconds=60)).isoformat()
    clock.now = T0 + timedelta(seconds=50)  # the second is due again (35 s)
    deliver_due(settings, store, now=clock)
    assert [d["attempts"] for d in store.deliveries.pending("w")] == [2, 2]
    clock.now = T0 + timedelta(seconds=60)
    tried = receiver.requests
    assert deliver_due(settings, store, now=clock).messages == 0  # neither is due
    assert receiver.requests == tried

    receiver.status = 200  # back up
    clock.now = T0 + timedelta(seconds=111)
    report = deliver_due(settings, store, now=clock)
    assert (report.messages, report.failures) == (2, [])
    assert receiver.event_ids() == [first, second]
    assert store.deliveries.pending() == []


def test_an_unreachable_webhook_is_a_failure_not_a_crash(store, database_url, tmp_path):
    covid, _, _ = crawl_two_sources(store)
    server = JsonReceiver()
    url = server.url
    server.close()  # nothing listens there now
    path = write_watch_config(tmp_path, database_url,
                              f'[[watches]]\nname = "w"\nwebhook = "{url}"\n')
    add_change_event(store, covid, "edited")
    report = deliver_due(load_settings(path, env={}), store, now=Clock())
    assert report.failures and "refused" in report.failures[0][1].lower()
    assert store.deliveries.pending("w")[0]["attempts"] == 1


def test_a_digest_sends_one_message_per_period(store, database_url, tmp_path):
    covid, roads, other = crawl_two_sources(store)
    path = write_watch_config(tmp_path, database_url,
                              '[[watches]]\nname = "d"\nwebhook = "http://x/"\ndigest = "15m"\n')
    settings = load_settings(path, env={})
    sent = []
    clock = Clock()

    def send(watch, events, base_url):
        sent.append([e["id"] for e in events])

    first = add_change_event(store, covid, "edited")
    deliver_due(settings, store, now=clock, send=send)
    clock.now = T0 + timedelta(minutes=5)
    second = add_change_event(store, roads, "removed")
    deliver_due(settings, store, now=clock, send=send)
    assert sent == []  # the first has waited 5 of 15 minutes
    clock.now = T0 + timedelta(minutes=15)
    deliver_due(settings, store, now=clock, send=send)
    assert sent == [[first, second]]
    third = add_change_event(store, other, "edited")
    clock.now = T0 + timedelta(minutes=20)
    deliver_due(settings, store, now=clock, send=send)
    clock.now = T0 + timedelta(minutes=29)
    deliver_due(settings, store, now=clock, send=send)
    assert sent == [[first, second]]
    clock.now = T0 + timedelta(minutes=35)
    deliver_due(settings, store, now=clock, send=send)
    assert sent == [[first, second], [third]]


def test_a_failed_send_of_any_channel_is_retried(store, database_url, tmp_path):
    covid, _, _ = crawl_two_sources(store)
    path = write_watch_config(tmp_path, database_url,
                              '[[watches]]\nname = "w"\nwebhook = "http://x/"\n')
    settings = load_settings(path, env={})
    add_change_event(store, covid, "edited")

    def refuse(watch, events, base_url):
        raise ChannelError("Apprise: mail server said no")

    report = deliver_due(settings, store, now=Clock(), send=refuse)
    assert report.failures == [("w", "Apprise: mail server said no")]
    assert store.deliveries.pending("w")[0]["last_error"] == "Apprise: mail server said no"


def test_messages_are_chinese_plain_text_with_links():
    event = {"id": 7, "kind": "edited", "at": "2026-03-01T08:00:00+00:00", "source": "a",
             "source_title": "中国政府网", "article_id": 42, "url": "https://www.gov.cn/1.htm",
             "title": "通知", "version": 2, "changed": ["body_text"],
             "summary": "正文: 二十 → 十五", "detail": None}
    title, body = message_text("w", [event], "https://archive.example.org")
    assert title == "【修改】中国政府网：通知"
    assert body.splitlines()[:3] == ["修改 · 中国政府网", "标题：通知", "变化：正文: 二十 → 十五"]
    assert "时间：2026-03-01 16:00" in body
    assert "https://archive.example.org/articles/42" in body
    assert "https://archive.example.org/changes" in body
    removed = {**event, "id": 8, "kind": "removed", "summary": None, "changed": [],
               "detail": "404"}
    title, body = message_text("w", [event, removed], "https://archive.example.org")
    assert title == "govarchive：2 条变化（w）"
    assert "1. 【修改】中国政府网" in body and "2. 【删除】中国政府网" in body
    assert "说明：404" in body
