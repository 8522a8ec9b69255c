"""A small archive for search, API and web tests, written through ``Store.ingest`` the way a
crawl writes it: articles in two sources, an edited article (two versions), a removed one,
and enough filler to page through."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from govarchive.storage import Store
from tests.builders import T0, FakeCrawl

BASE = "https://www.example.gov.cn"
FILLER = 45
EDITED_BEFORE = "全市各区要做好防汛准备，落实值班制度。"
EDITED_AFTER = "全市各区要做好防汛抗洪准备，严格落实二十四小时值班制度。"


@dataclass
class Corpus:
    ids: dict[str, int] = field(default_factory=dict)


def build(store: Store) -> Corpus:
    crawl, corpus = FakeCrawl(store, base=BASE), Corpus()

    def article(source: str, path: str, when, **fields) -> int:
        return crawl.article(path, when, source=source, **fields).article_id

    corpus.ids["flood"] = article(
        "difang", "/dfzw/2026-03/05/content_1.htm", T0,
        title="北京市部署防汛工作", published_at="2026-03-05T09:00:00+08:00",
        origin="北京日报", section=["首页", "地方政务"],
        body_text="北京市召开会议，部署今年防汛工作。会议要求各区压实责任。",
        attachments=[{"url": BASE + "/files/plan.pdf", "name": "防汛预案.pdf"}],
    )
    corpus.ids["old_flood"] = article(
        "difang", "/dfzw/2026-02/10/content_2.htm", T0,
        title="上海推进城市更新", published_at="2026-02-10T10:00:00+08:00", origin="解放日报",
        body_text="上海市推进城市更新，同时兼顾排水与防汛设施建设。",
    )
    corpus.ids["national"] = article(
        "yaowen", "/yaowen/2026-03/20/content_3.htm", T0,
        title="国务院常务会议研究防汛抗旱", published_at="2026-03-20T18:00:00+08:00",
        origin="新华社", body_text="会议研究部署防汛抗旱工作，要求做好应急准备。",
    )
    corpus.ids["edited"] = article(
        "difang", "/dfzw/2026-03/08/content_4.htm", T0,
        title="天津市防汛值班通知", published_at="2026-03-08T08:00:00+08:00", origin="天津日报",
        body_text=EDITED_BEFORE,
    )
    article("difang", "/dfzw/2026-03/08/content_4.htm", T0 + timedelta(days=1),
              title="天津市防汛值班通知", published_at="2026-03-08T08:00:00+08:00",
              origin="天津日报", body_text=EDITED_AFTER)
    corpus.ids["removed"] = article(
        "difang", "/dfzw/2026-03/09/content_5.htm", T0,
        title="河北暂停部分景区开放", published_at="2026-03-09T08:00:00+08:00",
        origin="河北日报", body_text="因防汛需要，部分景区暂停开放。",
    )
    crawl.observe("/dfzw/2026-03/09/content_5.htm", T0 + timedelta(days=2), "gone",
                  source="difang", confirmations=1, min_interval=timedelta(0))
    corpus.ids["english"] = article(
        "yaowen", "/yaowen/2026-03/21/content_6.htm", T0,
        title="GDP增长5.2%", published_at="2026-03-21T10:00:00+08:00", origin="国家统计局",
        body_text="一季度GDP同比增长5.2%，经济运行开局良好。",
    )
    # The filler arrives in one batch, as a crawl's pipeline hands over many pages at once
    # (one transaction instead of 45: PostgreSQL builds this corpus for every test).
    captures, articles = [], []
    for i in range(FILLER):
        day = 1 + i % 28
        batch = crawl.batch(f"/tongzhi/{i}.htm", T0, source="yaowen",
                            title=f"关于第{i}批事项的通知",
                            published_at=f"2026-01-{day:02d}T09:00:00+08:00",
                            origin="办公厅", body_text=f"现将第{i}批事项通知如下，请认真贯彻执行。")
        captures += batch[0]
        articles += batch[1]
    crawl.ingest(captures, articles)
    return corpus
