"""Fuzz the article extractor and the list finder with hypothesis for a given time (issue 16).

```
python bench/fuzz.py [--minutes 10] [--batch 200] [--seed N]
```

Generates HTML pages (random tags, attributes, nesting up to thousands of levels, text in
Chinese, ASCII and control characters, encoded in a random charset and labelled with a
charset that may lie), raw bytes and mutated pages (cut, spliced, bytes flipped), and hands
each to ``govarchive.crawler.extract.extract_article`` (with its Content-Type) and to
``govarchive.crawler.links.parse_list_page`` (with the text ``decode_html`` reads). A
``NotHTMLError`` is an expected outcome; any other exception is counted by kind, with the
first example of each kind saved under ``--save`` (default: not saved). Prints pages tried,
exceptions (0 expected) and their kinds. Exit status 1 when an exception was found.
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from collections import Counter
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from govarchive.crawler.extract import NotHTMLError, decode_html, extract_article
from govarchive.crawler.links import parse_list_page

URL = "http://www.example.gov.cn/zwgk/2024/content_1.htm"
TAGS = ["html", "head", "body", "div", "p", "span", "a", "ul", "li", "table", "tr", "td", "h1",
        "title", "meta", "script", "style", "img", "br", "font", "center", "iframe", "form",
        "base", "svg", "math", "template", "noscript", "xmp", "plaintext", "frameset", "tbody"]
ATTRS = ["href", "src", "class", "id", "style", "name", "content", "charset", "http-equiv",
         "onclick", "target"]
VALUES = ["/2024/content_2.htm", "content_3.htm", "../t20240101_1.html", "javascript:void(0)",
          "#", "//other.gov.cn/a/content_4.htm", "display:none", "list", "nav", "下一页",
          "text/html; charset=gb2312", "utf-8", "big5", "ArticleTitle", "firstpublishedtime",
          "2024-03-05 10:00", "http://[::1", "\x00", "a" * 300, "附件.pdf"]
WORDS = ["通知", "来源：市政府", "发布时间：2024-03-05", "下一页", "责任编辑：", "。", "，",
         "国发〔2024〕3号", "&nbsp;", "&#0;", "&#x110000;", "\ufffd", "\x00", "\x0b", "<", ">",
         "&", "]]>", "<!--", "-->", "<![CDATA[", "中華民國113年", "打印本页", "text"]
CHARSETS = ["utf-8", "gbk", "gb18030", "big5", "utf-16", "utf-16-le", "latin-1", "shift_jis"]
LABELS = [None, "text/html", "text/html; charset=utf-8", "text/html; charset=gb2312",
          "text/html; charset=big5", "text/html; charset=bogus", "text/plain",
          "application/octet-stream", "text/html; charset=utf-16", "image/png"]

attribute = st.tuples(st.sampled_from(ATTRS), st.sampled_from(VALUES) | st.text(max_size=20))
text = st.lists(st.sampled_from(WORDS) | st.text(max_size=12), max_size=6).map("".join)


def _element(children: st.SearchStrategy) -> st.SearchStrategy:
    def render(parts) -> str:
        tag, attrs, inner, closed = parts
        rendered = "".join(f' {k}="{v}"' for k, v in attrs)
        return f"<{tag}{rendered}>{''.join(inner)}" + (f"</{tag}>" if closed else "")
    return st.tuples(st.sampled_from(TAGS), st.lists(attribute, max_size=4),
                     st.lists(children, max_size=5), st.booleans()).map(render)


tree = st.recursive(text, _element, max_leaves=40)
deep = st.tuples(st.sampled_from(["div", "span", "table", "a", "font", "li"]),
                 st.integers(1, 6000), tree).map(lambda t: f"<{t[0]}>" * t[1] + t[2])
page_text = st.one_of(tree, deep, st.lists(tree, max_size=8).map("".join))


@st.composite
def pages(draw) -> tuple[bytes, str | None]:
    kind = draw(st.integers(0, 9))
    if kind == 0:
        body = draw(st.binary(max_size=4000))
    else:
        html = f"<html><head><title>{draw(text)}</title></head><body>{draw(page_text)}</body>"
        body = html.encode(draw(st.sampled_from(CHARSETS)), errors="replace")
        if kind >= 7:  # mutate: cut, splice random bytes, flip bytes
            cut = draw(st.integers(0, len(body)))
            body = body[:cut] + draw(st.binary(max_size=64)) + body[cut:][: draw(st.integers(0, 200))]
    return body, draw(st.sampled_from(LABELS))


class Tally:
    def __init__(self, save: Path | None):
        self.pages = 0
        self.not_html = 0
        self.kinds: Counter[str] = Counter()
        self.save = save

    def check(self, body: bytes, content_type: str | None) -> None:
        self.pages += 1
        for name, call in (("extract_article", lambda: extract_article(
                                body, URL, content_type=content_type)),
                           ("parse_list_page", lambda: parse_list_page(
                                decode_html(body, content_type)[0], URL))):
            try:
                call()
            except NotHTMLError:
                self.not_html += name == "extract_article"
            except Exception as exc:  # noqa: BLE001 - what the fuzzer is looking for
                kind = f"{name}: {type(exc).__name__}"
                if not self.kinds[kind] and self.save is not None:
                    self.save.mkdir(parents=True, exist_ok=True)
                    stem = self.save / f"{name}-{type(exc).__name__}"
                    stem.with_suffix(".bin").write_bytes(body)
                    stem.with_suffix(".txt").write_text(
                        f"{content_type!r}\n{traceback.format_exc()}", encoding="utf-8")
                self.kinds[kind] += 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="how long to fuzz")
    parser.add_argument("--batch", type=int, default=200,
                        help="pages per hypothesis run (the clock is read between runs)")
    parser.add_argument("--save", type=Path, help="folder for the first page of each exception")
    args = parser.parse_args(argv)
    tally = Tally(args.save)

    @settings(max_examples=args.batch, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(page=pages())
    def fuzz(page):
        tally.check(*page)

    started = time.monotonic()
    deadline = started + args.minutes * 60
    while time.monotonic() < deadline:
        fuzz()
    seconds = time.monotonic() - started
    exceptions = sum(tally.kinds.values())
    print(f"pages tried: {tally.pages} in {seconds:.0f} s ({tally.pages / seconds:.0f}/s)")
    print(f"not HTML (expected): {tally.not_html}")
    print(f"exceptions: {exceptions}")
    for kind, n in tally.kinds.most_common():
        print(f"  {n} × {kind}")
    return 1 if exceptions else 0


if __name__ == "__main__":
    sys.exit(main())
