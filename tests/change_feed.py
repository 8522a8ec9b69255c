"""A small change feed for the CLI, web and Atom tests: articles written through
``FakeCrawl`` in two sources, and the change events storage records of them: new articles, an
edit of a number, a confirmed removal, a removal not yet confirmed, an article whose title
carries HTML."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from govarchive.storage import Store
from tests.builders import T0, FakeCrawl

HOUR = timedelta(hours=1)
BASE = "https://www.example.gov.cn"
SOURCES = {"difang": "地方政务", "yaowen": "国务院要闻"}
EDIT_SUMMARY = "正文: 二十 → 十五"
HTML_TITLE = "<script>alert(1)</script>要闻<b>速递</b>"


@dataclass
class Feed:
    articles: dict[str, int] = field(default_factory=dict)
    events: dict[str, int] = field(default_factory=dict)


def latest_event(store: Store, article_id: int, kind: str) -> int:
    """The id of the newest event of ``kind`` that storage recorded for the article."""
    (event,) = store.list_changes(article_id=article_id, kinds=[kind], limit=1)
    return event["id"]


def build(store: Store) -> Feed:
    store.set_sources(SOURCES)
    crawl, feed = FakeCrawl(store, base=BASE, source="difang"), Feed()

    def new(name: str, path: str, when, **fields) -> int:
        article_id = crawl.article(path, when, **fields).article_id
        feed.articles[name] = article_id
        feed.events[f"{name}_new"] = latest_event(store, article_id, "new")
        return article_id

    edited = new("edited", "/dfzw/1.htm", T0, title="关于缩短办理时限的通知",
                 body_text="窗口办理时间不超过二十分钟。")
    crawl.article("/dfzw/1.htm", T0 + HOUR, title="关于缩短办理时限的通知",
                  body_text="窗口办理时间不超过十五分钟。")
    feed.events["edited_edit"] = latest_event(store, edited, "edited")
    removed = new("removed", "/dfzw/2.htm", T0 + 2 * HOUR, title="暂停部分景区开放",
                  body_text="因防汛需要，部分景区暂停开放。")
    crawl.observe("/dfzw/2.htm", T0 + 3 * HOUR, "gone", confirmations=1,
                  min_interval=timedelta(0))
    feed.events["removed_removed"] = latest_event(store, removed, "removed")
    new("pending", "/dfzw/3.htm", T0 + 4 * HOUR, title="防汛值班安排",
                  body_text="各区做好防汛值班。")
    crawl.observe("/dfzw/3.htm", T0 + 5 * HOUR, "gone", confirmations=2)
    new("html", "/yaowen/4.htm", T0 + 6 * HOUR, source="yaowen", title=HTML_TITLE,
        body_text="国务院常务会议研究经济工作。")
    return feed
