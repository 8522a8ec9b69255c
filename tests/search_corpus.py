"""A small archive for search, API and web tests, written through ``Store.ingest`` the way a
crawl writes it: articles in two sources, an edited article (two versions), a removed one,
and enough filler to page through."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from govarchive.storage import ArticleIn, CaptureIn, Store
from govarchive.storage.tracking import ObservationIn

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
BASE = "https://www.example.gov.cn"
FILLER = 45
EDITED_BEFORE = "全市各区要做好防汛准备，落实值班制度。"
EDITED_AFTER = "全市各区要做好防汛抗洪准备，严格落实二十四小时值班制度。"


@dataclass
class Corpus:
    ids: dict[str, int] = field(default_factory=dict)


class ArchiveWriter:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.fetches = 0

    def capture(self, url: str, when: datetime) -> CaptureIn:
        self.fetches += 1
        return CaptureIn(
            record_id=f"<urn:uuid:00000000-0000-0000-0000-{self.fetches:012d}>", url=url,
            fetched_at=when, status=200, content_type="text/html; charset=utf-8",
            payload_digest=f"sha1:D{self.fetches}", warc_file="govarchive-1.warc.gz",
            warc_offset=1000 * self.fetches, warc_length=500,
        )

    def article(self, source: str, path: str, when: datetime, **fields) -> int:
        url = BASE + path
        capture = self.capture(url, when)
        record = {"title": None, "published_at": None, "published_precision": "day",
                  "origin": None, "author": None, "section": [], "doc_number": None,
                  "body_text": "", "body_html": "", "attachments": [], "images": [],
                  "encoding": "utf-8", "truncated": False, **fields}
        item = ArticleIn(source=source, url=url, urls=[url], capture_record_id=capture.record_id,
                         fetched_at=when, fields=record)
        return self.store.ingest([capture], [item]).article_ids[0]

    def gone(self, source: str, path: str, when: datetime) -> None:
        url = BASE + path
        capture = self.capture(url, when)
        obs = ObservationIn(source=source, url=url, capture_record_id=capture.record_id,
                            fetched_at=when, kind="gone", reason="404", confirmations=1,
                            min_interval=timedelta(0))
        self.store.ingest([capture], [], observations=[obs])


def build(store: Store) -> Corpus:
    w, corpus = ArchiveWriter(store), Corpus()
    corpus.ids["flood"] = w.article(
        "difang", "/dfzw/2026-03/05/content_1.htm", T0,
        title="北京市部署防汛工作", published_at="2026-03-05T09:00:00+08:00",
        origin="北京日报", section=["首页", "地方政务"],
        body_text="北京市召开会议，部署今年防汛工作。会议要求各区压实责任。",
        attachments=[{"url": BASE + "/files/plan.pdf", "name": "防汛预案.pdf"}],
    )
    corpus.ids["old_flood"] = w.article(
        "difang", "/dfzw/2026-02/10/content_2.htm", T0,
        title="上海推进城市更新", published_at="2026-02-10T10:00:00+08:00", origin="解放日报",
        body_text="上海市推进城市更新，同时兼顾排水与防汛设施建设。",
    )
    corpus.ids["national"] = w.article(
        "yaowen", "/yaowen/2026-03/20/content_3.htm", T0,
        title="国务院常务会议研究防汛抗旱", published_at="2026-03-20T18:00:00+08:00",
        origin="新华社", body_text="会议研究部署防汛抗旱工作，要求做好应急准备。",
    )
    corpus.ids["edited"] = w.article(
        "difang", "/dfzw/2026-03/08/content_4.htm", T0,
        title="天津市防汛值班通知", published_at="2026-03-08T08:00:00+08:00", origin="天津日报",
        body_text=EDITED_BEFORE,
    )
    w.article("difang", "/dfzw/2026-03/08/content_4.htm", T0 + timedelta(days=1),
              title="天津市防汛值班通知", published_at="2026-03-08T08:00:00+08:00",
              origin="天津日报", body_text=EDITED_AFTER)
    corpus.ids["removed"] = w.article(
        "difang", "/dfzw/2026-03/09/content_5.htm", T0,
        title="河北暂停部分景区开放", published_at="2026-03-09T08:00:00+08:00",
        origin="河北日报", body_text="因防汛需要，部分景区暂停开放。",
    )
    w.gone("difang", "/dfzw/2026-03/09/content_5.htm", T0 + timedelta(days=2))
    corpus.ids["english"] = w.article(
        "yaowen", "/yaowen/2026-03/21/content_6.htm", T0,
        title="GDP增长5.2%", published_at="2026-03-21T10:00:00+08:00", origin="国家统计局",
        body_text="一季度GDP同比增长5.2%，经济运行开局良好。",
    )
    for i in range(FILLER):
        day = 1 + i % 28
        w.article("yaowen", f"/tongzhi/{i}.htm", T0,
                  title=f"关于第{i}批事项的通知",
                  published_at=f"2026-01-{day:02d}T09:00:00+08:00",
                  origin="办公厅", body_text=f"现将第{i}批事项通知如下，请认真贯彻执行。")
    return corpus
