"""A large synthetic gov.cn-style section for benchmarks, generated page by page on request.

``BulkSite(5000)`` answers ``/lianbo/bulk/index.htm`` … ``index_249.htm`` (20 links a page,
``下一页`` pagination) and 5,000 article pages of 15–30 KB each, in the gov.cn layout, with
text varied from seeded word pools. Nothing is written to disk; the same numbers always give
the same bytes, so a benchmark's WARC sizes and content hashes are repeatable.

Like a real section, articles are about different things: each writes most of its sentences
with its own draw of words, so two articles share few character trigrams beyond the
templated phrases, and near-duplicate detection sees a handful of candidates per article, not
every article of the same province. One article in ``REPOST_EVERY`` reposts the body of the
one before it under its own title: the section's near-duplicates.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from functools import lru_cache

from tests.site import layouts
from tests.site.content import Response, error_page, html_content_type, split_target

PLACES = ["北京", "天津", "河北", "山西", "内蒙古", "辽宁", "吉林", "黑龙江", "上海", "江苏",
          "浙江", "安徽", "福建", "江西", "山东", "河南", "湖北", "湖南", "广东", "广西", "海南",
          "重庆", "四川", "贵州", "云南", "西藏", "陕西", "甘肃", "青海", "宁夏", "新疆"]
PAPERS = {"北京": "北京日报", "上海": "解放日报", "广东": "南方日报", "江苏": "新华日报"}
TOPICS = ["营商环境", "乡村振兴", "生态保护", "养老服务", "义务教育", "医疗保障", "城市更新",
          "数字政府", "防汛抗旱", "粮食生产", "文化旅游", "就业创业", "交通建设", "安全生产",
          "住房保障", "科技创新", "对外开放", "民生实事", "社会救助", "基层治理"]
ACTIONS = ["出台", "部署", "推进", "启动", "完善", "发布", "开展", "加快", "深化", "实施"]
OBJECTS = ["若干措施", "三年行动计划", "专项整治", "试点工作", "重点任务", "配套政策",
           "实施方案", "服务清单", "考核办法", "工作机制"]
AGENCIES = ["发展改革委", "教育厅", "民政厅", "财政厅", "人力资源社会保障厅", "自然资源厅",
            "生态环境厅", "住房城乡建设厅", "交通运输厅", "农业农村厅", "商务厅", "卫生健康委"]
CLAUSES = ["进一步优化办事流程", "切实减轻企业和群众负担", "确保各项任务落到实处",
           "加强部门协同和信息共享", "建立健全长效机制", "强化资金保障和督促检查",
           "推动形成可复制可推广的经验", "及时回应群众关切", "严格落实安全责任",
           "提高基层服务能力", "做好政策解读和宣传引导", "统筹发展和安全"]
NUMBERS = ["一百二十", "三千五百", "四十八", "六百", "二十六", "九十", "一万二千", "七十五"]
UNITS = ["个项目", "家企业", "所学校", "公里道路", "万人次", "亿元资金", "个村庄", "项事项"]
PER_PAGE = 20
REPOST_EVERY = 50
# Words each article draws from the vocabulary, and the share of its sentences written with
# them (the rest are the templated sentences every article of the section shares).
LEXICON_WORDS = 300
FREE_SENTENCES = 0.7
FIRST_ID = 7100000
NEWEST = datetime(2024, 6, 28, 18, 0, 0)


class BulkSite:
    """N articles under ``section`` (newest first), 20 to a list page."""

    name = "bulk"
    charset = "utf-8"

    def __init__(self, articles: int = 5000, *, section: str = "/lianbo/bulk/", seed: int = 2024):
        if articles < 1:
            raise ValueError("a bulk section needs at least one article")
        self.count = articles
        self.section = section
        self.seed = seed
        self.page_count = (articles + PER_PAGE - 1) // PER_PAGE
        self._expected: dict | None = None
        self._rendered: dict[str, bytes] = {}
        self.meta = lru_cache(maxsize=4096)(self._meta)

    # -- addresses
    def list_path(self, page: int) -> str:
        return f"{self.section}index{'' if page == 0 else f'_{page}'}.htm"

    def article_path(self, index: int) -> str:
        """Index 0 is the newest article."""
        when = self.meta(index)["when"]
        return f"{self.section}{when:%Y%m}/content_{FIRST_ID + self.count - index}.htm"

    def article_index(self, path: str) -> int | None:
        _head, _, name = path.rpartition("/content_")
        if not name.endswith(".htm") or not name[:-4].isdigit():
            return None
        index = self.count - (int(name[:-4]) - FIRST_ID)
        if not 0 <= index < self.count or self.article_path(index) != path:
            return None
        return index

    # -- the text
    def _meta(self, index: int) -> dict:
        rng = random.Random(self.seed * 1_000_003 + index)
        place = rng.choice(PLACES)
        # About a working day between articles, at office hours with seconds.
        when = NEWEST - timedelta(minutes=index * 157 + rng.randint(0, 120),
                                  seconds=rng.randint(0, 59))
        title = f"{place}{rng.choice(ACTIONS)}{rng.choice(TOPICS)}{rng.choice(OBJECTS)}"
        if index % 7 == 3:
            title += f"（第{index % 31 + 1}期）"
        return {"when": when, "title": title, "place": place,
                "origin": PAPERS.get(place, f"{place}日报"), "rng_state": rng.getstate()}

    def _sentence(self, rng: random.Random, place: str) -> str:
        return (f"{place}{rng.choice(AGENCIES)}{rng.choice(ACTIONS)}{rng.choice(TOPICS)}"
                f"{rng.choice(OBJECTS)}，计划完成{rng.choice(NUMBERS)}{rng.choice(UNITS)}，"
                f"{rng.choice(CLAUSES)}。")

    def _free_sentence(self, rng: random.Random, lexicon: list[str]) -> str:
        words = rng.choices(lexicon, k=rng.randint(6, 14))
        cut = rng.randint(2, len(words) - 2)
        return f"{''.join(words[:cut])}，{''.join(words[cut:])}{rng.randint(2, 9999)}。"

    def is_repost(self, index: int) -> bool:
        return index % REPOST_EVERY == REPOST_EVERY // 2 and index + 1 < self.count

    def paragraphs(self, index: int) -> list[str]:
        meta = self.meta(index)
        source = self.meta(index + 1) if self.is_repost(index) else meta
        rng = random.Random()
        rng.setstate(source["rng_state"])
        lexicon = rng.sample(_vocabulary(), LEXICON_WORDS)
        # The page chrome is about 4.5 KB; the body makes up the rest of 15-30 KB.
        budget = rng.randint(11_500, 24_500)
        paragraphs, size = [], 0
        while size < budget:
            text = "".join(
                self._free_sentence(rng, lexicon) if rng.random() < FREE_SENTENCES
                else self._sentence(rng, source["place"])
                for _ in range(rng.randint(2, 6)))
            paragraphs.append(text)
            size += len(text.encode("utf-8")) + 34
        paragraphs[0] = f"记者从{meta['place']}有关部门获悉，{meta['title']}。" + paragraphs[0]
        return paragraphs

    def expected_article(self, index: int) -> dict:
        meta = self.meta(index)
        return {"title": meta["title"], "published": meta["when"].isoformat() + "+08:00",
                "published_precision": "second", "origin": meta["origin"], "author": "周暹",
                "section": ["首页", "联播", "地方"], "doc_number": None, "attachments": [],
                "images": [],
                "body_contains": f"记者从{meta['place']}有关部门获悉，{meta['title']}。"}

    @property
    def expected(self) -> dict:
        """The manifest, built on first use (5,000 titles and dates take a few milliseconds)."""
        if self._expected is None:
            self._expected = {
                "site": "bulk", "charset": self.charset, "start": self.list_path(0),
                "list_pages": [self.list_path(p) for p in range(self.page_count)],
                "articles": {self.article_path(i): self.expected_article(i)
                             for i in range(self.count)},
                "decoys": [p for p, _ in _related()], "disallowed": [], "routes": {},
                "per_page": PER_PAGE,
            }
        return self._expected

    # -- pages
    def list_html(self, page: int) -> str:
        first = page * PER_PAGE
        items = []
        for index in range(first, min(first + PER_PAGE, self.count)):
            meta = self.meta(index)
            href = "." + self.article_path(index)[len(self.section) - 1:]
            items.append((href, meta["title"], f"{meta['when']:%Y-%m-%d}"))
        return layouts.list_page(section_title="地方政务", crumbs=_crumbs(self.section),
                                 items=items, page=page, page_count=self.page_count,
                                 related=_related(), generated=f"{NEWEST:%Y-%m-%d %H:%M:%S}")

    def article_html(self, index: int) -> str:
        meta = self.meta(index)
        when = meta["when"]
        return layouts.article_page(
            title=meta["title"], section_title="地方政务",
            firstpublished=f"{when:%Y-%m-%d-%H:%M:%S}", info_time=f"{when:%Y-%m-%d %H:%M}",
            origin=meta["origin"], author="周暹", paragraphs=self.paragraphs(index),
            crumbs=_crumbs(self.section), related=_related(),
            generated=f"{NEWEST:%Y-%m-%d %H:%M:%S}")

    def render_all(self) -> None:
        """Make every page's bytes now, and answer from them from then on.

        A benchmark's server shares the machine with the crawler it measures: generating a
        page per request (about a millisecond of Python) would be charged to every crawl.
        """
        for page in range(self.page_count):
            self._rendered[self.list_path(page)] = self.list_html(page).encode("utf-8")
        for index in range(self.count):
            self._rendered[self.article_path(index)] = self.article_html(index).encode("utf-8")

    def respond(self, target: str) -> Response:
        path, _ = split_target(target)
        if path in self._rendered:
            return Response(body=self._rendered[path],
                            content_type=html_content_type(self.charset))
        if path == "/robots.txt":
            return Response(body=b"User-agent: *\nDisallow: /private/\n",
                            content_type="text/plain")
        html = None
        if path.startswith(self.section) and path.rpartition("/")[2].startswith("index"):
            page = _page_number(path.rpartition("/")[2])
            if page is not None and page < self.page_count:
                html = self.list_html(page)
        elif (index := self.article_index(path)) is not None:
            html = self.article_html(index)
        if html is None:
            return error_page(404)
        return Response(body=html.encode("utf-8"), content_type=html_content_type(self.charset))


@lru_cache(maxsize=1)
def _vocabulary() -> list[str]:
    """3,000 two- and three-character words made of the characters of the word pools above and
    of the fixture sites' articles (tests/site/texts.py)."""
    from tests.site import texts

    source = "".join(PLACES + TOPICS + ACTIONS + OBJECTS + AGENCIES + CLAUSES + NUMBERS + UNITS)
    source += repr((texts.GOVCN_ARTICLES, texts.MINISTRY_ARTICLES))
    chars = sorted({c for c in source if "\u4e00" <= c <= "\u9fff"})
    rng = random.Random(20240628)
    return ["".join(rng.choices(chars, k=rng.choice((2, 2, 3)))) for _ in range(3000)]


def _page_number(name: str) -> int | None:
    if name == "index.htm":
        return 0
    number = name.removeprefix("index_").removesuffix(".htm")
    return int(number) if number.isdigit() and number != "0" else None


def _crumbs(section: str) -> list[tuple[str, str]]:
    return [("/", "首页"), ("/lianbo/", "联播"), (f"{section}index.htm", "地方")]


def _related() -> list[tuple[str, str]]:
    return [("/lianbo/bumen/202406/content_7099001.htm", "国务院部门联播：夏季安全生产部署"),
            ("/zhengce/content/202406/content_7099002.htm", "关于做好夏季防汛工作的通知")]
