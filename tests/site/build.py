"""Writes the fixture sites under tests/site/sites/ from the invented texts.

The files are committed; this script is how they were made. Edit the texts or layouts and
run ``python -m tests.site.build`` (needs opencc for the Traditional copy), rather than editing
the generated files by hand: tests/test_site_server.py checks the two agree.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.site import layouts, texts
from tests.site.binaries import make_png

SITES_DIR = Path(__file__).resolve().parent / "sites"
ROBOTS = "User-agent: *\nDisallow: /private/\n"
GOVCN_CSS = ("body { font-family: sans-serif; }\n.article h1 { font-size: 26px; }\n"
             ".pages_content p { text-indent: 2em; }\n")
FIXTURE_MARK = "<!-- govarchive test fixture: invented text -->\n"
GOVCN_SECTION = "/lianbo/difang/"
GOVCN_CRUMBS = [("/", "首页"), ("/lianbo/", "联播"), ("/lianbo/difang/index.htm", "地方")]
GOVCN_GENERATED = "2024-03-12 17:00:03"
PER_PAGE = 5


def marked(html: str) -> str:
    """Puts the fixture mark after the doctype, where it leaves the page's parsing mode alone."""
    first, rest = html.split("\n", 1)
    return f"{first}\n{FIXTURE_MARK}{rest}"


def iso(stamp: str) -> str:
    """"2024-03-02 10:15:00" -> "2024-03-02T10:15:00+08:00" (pages give Beijing time)."""
    return stamp.replace(" ", "T") + ("+08:00" if len(stamp) > 16 else ":00+08:00")


def govcn_article_path(article_id: int, stamp: str) -> str:
    return f"{GOVCN_SECTION}{stamp[:4]}{stamp[5:7]}/content_{article_id}.htm"


def decoy_links() -> list[tuple[str, str]]:
    return [(path, title) for path, _, _, title, _, _ in texts.GOVCN_DECOYS]


def build_govcn() -> tuple[dict[str, bytes], dict]:
    files: dict[str, bytes] = {}
    articles: dict[str, dict] = {}
    for article_id, stamp, origin, author, title, paragraphs in texts.GOVCN_ARTICLES:
        path = govcn_article_path(article_id, stamp)
        images = []
        if article_id == 6937008:
            images = [f"./images/{article_id}_1.png"]
            files[path.rsplit("/", 1)[0] + f"/images/{article_id}_1.png"] = make_png()
        html = layouts.article_page(
            title=title, section_title="地方政务", firstpublished=stamp.replace(" ", "-"),
            info_time=stamp[:16], origin=origin, author=author, paragraphs=paragraphs,
            crumbs=GOVCN_CRUMBS, related=decoy_links(), generated=GOVCN_GENERATED,
            images=images)
        files[path] = marked(html).encode("utf-8")
        articles[path] = {
            "title": title, "published": iso(stamp), "published_precision": "second",
            "origin": origin, "author": author, "section": ["首页", "联播", "地方"],
            "doc_number": None, "attachments": [],
            "images": [path.rsplit("/", 1)[0] + img[1:] for img in images],
            "body_contains": paragraphs[1].split("。")[0] + "。",
        }
    for path, stamp, origin, title, paragraphs, crumbs in texts.GOVCN_DECOYS:
        crumb_links = [("/", crumbs[0]), ("/lianbo/", crumbs[1]), (path, crumbs[2])]
        html = layouts.article_page(
            title=title, section_title=crumbs[2], firstpublished=stamp.replace(" ", "-"),
            info_time=stamp[:16], origin=origin, author="周暹", paragraphs=paragraphs,
            crumbs=crumb_links, related=[], generated=GOVCN_GENERATED)
        files[path] = marked(html).encode("utf-8")
    private_path, private_title, private_text = texts.GOVCN_PRIVATE
    files[private_path] = marked(layouts.article_page(
        title=private_title, section_title="内部", firstpublished="2024-03-01-00:00:00",
        info_time="2024-03-01 00:00", origin="内部", author="无", paragraphs=[private_text],
        crumbs=GOVCN_CRUMBS, related=[], generated=GOVCN_GENERATED)).encode("utf-8")

    items = [(govcn_article_path(a[0], a[1]), a[4], a[1][:10]) for a in texts.GOVCN_ARTICLES]
    pages = [items[i:i + PER_PAGE] for i in range(0, len(items), PER_PAGE)]
    list_paths = []
    for number, page_items in enumerate(pages):
        # Pages mix the href styles real sections use: "./" relative and root-relative.
        shown = [("." + p[len(GOVCN_SECTION) - 1:] if number != 1 else p, t, d)
                 for p, t, d in page_items]
        if number == 1:
            shown.insert(2, (private_path, private_title, "2024-03-06"))
        list_path = f"{GOVCN_SECTION}index{'' if number == 0 else f'_{number}'}.htm"
        list_paths.append(list_path)
        focus = (shown[0][0], shown[0][1]) if number == 0 else None
        files[list_path] = marked(layouts.list_page(
            section_title="地方政务", crumbs=GOVCN_CRUMBS, items=shown, page=number,
            page_count=len(pages), related=decoy_links(), generated=GOVCN_GENERATED,
            focus=focus)).encode("utf-8")
    files["/robots.txt"] = ROBOTS.encode("ascii")
    # What every page's <head> and header name (layouts.head, layouts.header): page requisites.
    files["/css/common.css"] = GOVCN_CSS.encode("ascii")
    files["/images/logo.png"] = make_png(4, 2, (180, 20, 20))
    files["/js/jquery.min.js"] = b"/* a stand-in for jQuery */\nwindow.jQuery = {};\n"
    manifest = {
        "site": "govcn", "charset": "utf-8", "start": list_paths[0], "list_pages": list_paths,
        "articles": articles, "decoys": [p for p, _ in decoy_links()],
        "disallowed": [private_path], "routes": {},
        "notes": "published comes from <meta firstpublishedtime> (seconds); the visible info "
                 "line shows minutes. index.htm repeats its first article in a focus box.",
    }
    return files, manifest


def write_site(name: str, files: dict[str, bytes], manifest: dict) -> Path:
    root = SITES_DIR / name
    if root.exists():
        shutil.rmtree(root)
    for path, data in files.items():
        target = root / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    (root / "expected.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True) + "\n",
        encoding="utf-8")
    return root


def build_all() -> dict[str, tuple[dict[str, bytes], dict]]:
    from tests.site.build_others import build_big5, build_ministry, build_quirks

    return {"govcn": build_govcn(), "ministry": build_ministry(), "big5": build_big5(),
            "quirks": build_quirks()}


def main() -> None:
    for name, (files, manifest) in build_all().items():
        root = write_site(name, files, manifest)
        print(f"{name}: {len(files)} files in {root}")


if __name__ == "__main__":
    main()
