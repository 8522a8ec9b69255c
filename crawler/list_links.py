"""Finding a list page's main list: the article links a section lists, without its decoys.

Chinese government CMSes (TRS WCM, Hanweb/大汉, Ucap, Jiathis-era portals) give their articles
URLs of a recognisable shape (``t20110402_123.htm``, ``content_711039.htm``,
``art_1621004_30332664.html``, dated folders). A list page also carries the same kind of links
in its header, tickers, 热门 boxes, sidebars and "相关解读" boxes, so the finder keeps only the
links of the *main list*: the container holding the most article-shaped links, plus any other
container nearly as full (sections that split their list into columns). Inside the main list an
item whose link has another shape (an off-site WeChat post, a pinned item) is still an item.

Lists that only a script prints (``document.write("<li><a …>")`` of literal strings, or an inline
``var data = [{title: …, url: …}]``) are rendered into the page before it is read.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from urllib.parse import urlsplit

from lxml import etree
from lxml import html as lxml_html

from govarchive.crawler.list_items import item_fields
from govarchive.crawler.selectors import compile_rule

# Path shapes of article pages on common Chinese government CMSes.
ARTICLE_URL_PATTERNS = [
    r"/t\d{8}_\d+\.s?html?$",                       # TRS WCM: t20110402_123.htm
    r"/content_\d+\.s?html?$",                      # www.gov.cn: content_711039.htm
    r"/art_\d+_\d+\.s?html?$",                      # Hanweb: art_1621004_30332664.html
    r"/art/\d{4}/\d{1,2}/\d{1,2}/art_\d+_\d+\.html$",
    # dated folder: /202403/xxx.htm, /2024-03/05/...
    r"/(?:19|20)\d{2}-?\d{2}(?:-?\d{2})?/[^/?#]+\.s?html?$",
    r"/(?:19|20)\d{2}/\d{1,2}(?:/\d{1,2})?/[^/?#]+\.s?html?$",  # /2024/03/05/xxx.html
    # DedeCMS and PHPCMS static pages: /a/zwdt/2024/0102/1234.html
    r"/(?:19|20)\d{2}/(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])/[^/?#]+\.s?html?$",
    # people.cn style, also used by some gov sites
    r"/c\d+/(?:19|20)\d{2}-\d{2}-\d{2}/\d+\.s?html?$",
    (r"/(?i:[a-z_]*(?:art|article|content|detail|info|news|show|view)[a-z_]*\.(?:jsp|aspx?|php|do|action))"
     r"\?.*\b(?i:id|aid|articleId|newsId|infoid|contentId|docId|itemId)="),  # DedeCMS view.php?aid=
    # PHPCMS and kin: one front script, the action in the query (index.php?...&a=show&...&id=N)
    (r"\?(?=(?:[^#]*&)?(?i:a|ac|act|action|op)=(?i:show|detail|view|article)(?:&|$))"
     r"(?=(?:[^#]*&)?(?i:id|aid|itemid|newsid)=\d+(?:&|$))"),
    r"/show-\d+-\d+(?:-\d+)?\.s?html?$",  # PHPCMS pseudo-static: show-<catid>-<id>-<page>
    r"/info/\d+/\d+\.s?html?$",             # VSB (博达) sites: /info/1091/23456.htm
    r"/t\d{7,}\.s?html?$",                   # Guangxi sites: /zwgk/t19113220.shtml
    # Liaoning: a folder per article, named by a GUID or a time-stamped id, then index.shtml
    r"/(?:[0-9A-Fa-f]{32}|(?:19|20)\d{15,})/index\.s?html?$",
    r"/(?i:content|show|detail|article|news)[-_]\d{4,}\.s?html?$",  # /Content-1778525.html
    r"/c\d{5,}/content\.s?html?$",  # ministries on TRS WCM 7: /n2253534/c9381234/content.html
    # News.shtml?p5=530558, ShowArticle.asp?ArticleID=...: a detail script and a long number.
    (r"/(?i:[a-z_]*(?:art|article|content|detail|info|news|show|view|doc)[a-z_]*)"
     r"\.(?i:jsp|aspx?|php|do|action|s?html?)\?(?:[^#]*&)?\w+=\d{5,}(?:&|$)"),
    r"/\d{5,}\.(?:s?html?|aspx?|php|jsp)$",  # numeric ids: /1234567.shtml, /Item/21418.aspx
    # info.gov.hk: /gia/general/202401/05/P2024010500123.htm (month folder, then day folder)
    r"/(?:19|20)\d{2}(?:0[1-9]|1[0-2])/\d{1,2}/[^/?#]*\d{6,}[^/?#]*\.s?html?$",
    r"/news/\d{5,}/?$",                              # gov.mo: /zh-hant/news/1131988/
    r"/post_\d{4,}\.s?html?$",                       # Guangdong 集约化: content/post_4123456.html
    # gcs.gov.mo: /detail/zh-hant/N24ABcdE1f (a language, then an id of letters and digits)
    r"/detail/(?:zh-han[st]|pt|en)/(?=[A-Za-z0-9]*\d)[A-Za-z0-9]{8,}/?$",
]
_ARTICLE_URL_RE = re.compile("|".join(f"(?:{p})" for p in ARTICLE_URL_PATTERNS))

# Words of ids/classes that mark site chrome rather than the section's list.
_CHROME_WORD = (r"(?:nav|navbar|menu|header|head|top|footer|foot|bottom|friend|links?|yqlj|xglj|"
                r"related|sidebar|side|banner|breadcrumb|crumb|position|location|share|hot|rank|"
                r"ticker|marquee|rmph|rdph|popbox|"
                # pinyin names of 热门/热点/排行/推荐/相关 boxes
                r"remen|redian|paihang|phb|tuijian|recommend|xgxw|xgwz|xgjd)")
_CHROME_TOKEN = re.compile(rf"(?:^|[-_]){_CHROME_WORD}(?:$|[-_\d])", re.IGNORECASE)
# Layout utilities (margin-top-15, pt-top) say where a box is, not what it is.
_UTILITY_TOKEN = re.compile(r"^(?:margin|padding|border|text|align|float|pull|clear|pos|m[tblrxy]?|"
                            r"p[tblrxy]?)[-_]", re.IGNORECASE)
_CHROME_TAGS = {"header", "nav", "footer", "aside", "marquee"}
_LIST_ITEM_TAGS = {"li", "tr", "dd", "dt", "p"}
NON_PAGE_EXTENSIONS = (
    ".pdf", ".doc", ".docx", ".xls", ".xlsx", ".wps", ".ofd", ".zip", ".rar", ".jpg", ".jpeg",
    ".png", ".gif", ".mp4", ".mp3", ".et", ".ppt", ".pptx", ".txt", ".7z",
)
_LITERAL = r""""(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'"""
_WRITE_CALL = re.compile(r"document\.write(?:ln)?\s*\(")
_OBJECT = re.compile(r"\{[^{}\[\]]{0,2000}\}")
# A list printed by a script is a few KB; a bigger script is a library pasted into the page.
MAX_LIST_SCRIPT = 200_000


def looks_like_article_url(url: str) -> bool:
    """True when a URL has the shape of an article page on a common government CMS."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return False
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    return bool(_ARTICLE_URL_RE.search(target))


def site_key(host: str) -> str:
    """The registrable part of a host name, so www.gov.cn and sousuo.gov.cn count as one site."""
    host = host.lower().rstrip(".")
    labels = host.split(".")
    if len(labels) <= 2 or all(label.isdigit() for label in labels):
        return host
    if len(labels[-1]) == 2 and labels[-2] in {"gov", "com", "edu", "org", "net", "ac"}:
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])


def is_chrome(element) -> bool:
    """True for an element whose tag, id or class says it is page chrome (nav, ticker, 热门)."""
    tag = element.tag if isinstance(element.tag, str) else ""
    if tag in _CHROME_TAGS:
        return True
    for token in f"{element.get('id') or ''} {element.get('class') or ''}".split():
        if _CHROME_TOKEN.search(token) and not _UTILITY_TOKEN.match(token):
            return True
    return False


def anchor_text(anchor) -> str:
    text = " ".join(anchor.text_content().split())
    return text or (anchor.get("title") or "").strip()


# -- links opened by a handler ------------------------------------------------------------

# A link whose address is in its handler: onclick="window.open('/a/1.html')",
# "location.href='…'", or a data-href / data-url attribute.
_HANDLER_URL = re.compile(
    r"""(?:window\.open|location\.(?:assign|replace))\s*\(\s*(?:'([^'\s]+)'|"([^"\s]+)")"""
    r"""|location(?:\.href)?\s*=\s*(?:'([^'\s]+)'|"([^"\s]+)")""")
_NO_ADDRESS = re.compile(r"^\s*(?:#.*|javascript:.*|)$", re.IGNORECASE | re.DOTALL)


def give_handler_links_their_address(doc) -> None:
    """Set ``href`` on links whose own is empty, ``#`` or ``javascript:`` while their handler
    or a data attribute names a literal address, so every finder reads them as links."""
    for anchor in doc.iter("a"):
        if not _NO_ADDRESS.match(anchor.get("href") or ""):
            continue
        named = anchor.get("data-href") or anchor.get("data-url")
        if not named:
            match = _HANDLER_URL.search(anchor.get("onclick") or "")
            named = next((g for g in match.groups() if g), None) if match else None
        if named and not named.lower().startswith("javascript:"):
            anchor.set("href", named)


# -- lists printed by scripts --------------------------------------------------------------


def render_script_lists(doc) -> None:
    """Put into ``doc`` the lists its inline scripts print from literals or data arrays."""
    for script in list(doc.iter("script")):
        body = script.text or ""
        if script.get("src") or not body.strip() or len(body) > MAX_LIST_SCRIPT:
            continue
        markup = _written_markup(body)
        if markup is None:
            markup = _data_array_markup(body)
        if not markup:
            continue
        try:
            fragments = lxml_html.fragments_fromstring(markup)
        except (etree.ParserError, ValueError):
            continue
        holder = lxml_html.Element("div")
        holder.set("data-govarchive", "script-list")
        for fragment in fragments:
            if isinstance(fragment, str):
                holder.text = (holder.text or "") + fragment
            else:
                holder.append(fragment)
        script.addnext(holder)


def _written_markup(body: str) -> str | None:
    """The HTML a script writes with ``document.write`` when every argument is a literal."""
    if "document.write" not in body:
        return None
    pieces = []
    for call in _WRITE_CALL.finditer(body):
        rest = body[call.end():]
        match = re.match(rf"\s*((?:{_LITERAL})(?:\s*\+\s*(?:{_LITERAL}))*)\s*\)", rest)
        if match is None:
            return None  # built from variables: a pager or a clock, not a list
        pieces.extend(_js_string(lit) for lit in re.findall(_LITERAL, match.group(1)))
    markup = "".join(pieces)
    return markup if "<a" in markup.lower() else None


def _js_string(literal: str) -> str:
    try:
        return json.loads('"' + literal[1:-1].replace('\\"', '"').replace('"', '\\"')
                          .replace("\\'", "'") + '"')
    except ValueError:
        return re.sub(r"\\(.)", r"\1", literal[1:-1])


def _data_array_markup(body: str) -> str | None:
    """``var list = [{title: "…", url: "…"}, …]`` as ``<li><a href>`` items."""
    if "[" not in body or "{" not in body:
        return None
    items = []
    for obj in _OBJECT.finditer(body):
        fields = {}
        for key, literal in re.findall(rf"""["']?([A-Za-z_]\w*)["']?\s*:\s*({_LITERAL})""",
                                       obj.group(0)):
            fields.setdefault(key, _js_string(literal))
        url, title, _date = item_fields(fields)
        if title and url:
            items.append((url, title))
    if len(items) < 2:
        return None
    from html import escape

    rows = "".join(f'<li><a href="{escape(url)}">{escape(title)}</a></li>' for url, title in items)
    return f"<ul>{rows}</ul>"


# -- the main list -------------------------------------------------------------------------


def find_article_links(doc, absolute, page_url: str, rule: str | None = None,
                       excluded=frozenset()) -> list[tuple[str, str]]:
    """The main list's (url, link text) in page order; ``excluded`` elements are skipped (a
    hub's blocks)."""
    if rule:
        found = []
        for el in compile_rule(rule).select(doc):
            if not isinstance(el.tag, str):
                continue
            anchor = el if el.tag == "a" else next(iter(el.iter("a")), None)
            if anchor is not None and (target := absolute(anchor.get("href"))):
                found.append((target, anchor_text(anchor)))
        return unique_links(found)

    page_site = site_key(urlsplit(page_url).hostname or "")
    groups: dict[object, list] = {}  # container -> [(item, anchor, url)]
    order: list[object] = []
    chrome: dict = {}
    for anchor in doc.iter("a"):
        target = absolute(anchor.get("href"))
        if not target or target == page_url or not looks_like_article_url(target):
            continue
        if site_key(urlsplit(target).hostname or "") != page_site:
            continue
        if _DAY_OR_PAGE.match(anchor.text_content()):
            continue  # a calendar's day (info.gov.hk's daily indexes) or a page number
        placed = _list_container(anchor, excluded, chrome)
        if placed is None:
            continue
        container, item = placed
        if container not in groups:
            groups[container] = []
            order.append(container)
        groups[container].append((item, anchor, target))
    if not groups or max(len(links) for links in groups.values()) < MIN_SHAPED:
        # No list of known article addresses: a list of dated titles is one all the same.
        dated = _dated_list(doc, absolute, page_url, excluded)
        if dated:
            return dated
    visible = [c for c in order if not _hidden(c)]
    hidden_best = max((len(groups[c]) for c in order if c not in visible), default=0)
    # Hidden boxes (hover menus, 解读 pop-ups) are not the list, unless the list itself waits
    # hidden for a script to show it (nothing visible comes near it).
    if visible and 2 * max(len(groups[c]) for c in visible) >= hidden_best:
        order = visible
    if not order:
        return []
    main = max(order, key=lambda c: len(groups[c]))
    best = len(groups[main])
    # Columns of one list are about as full as each other and stand side by side; a sidebar
    # box is much smaller, a menu's preview far away.
    threshold = max(2, best // 2) if best > 2 else best
    near = _neighbourhood(main)
    found: list[tuple[str, str]] = []
    for container in order:
        if len(groups[container]) >= threshold and (container is main or near(container)):
            found.extend(_with_other_items(container, groups[container], absolute))
    return unique_links(found)


_DAY_OR_PAGE = re.compile(r"^\s*\d{1,2}\s*$")
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)
NEIGHBOUR_LEVELS = 4


def _hidden(element) -> bool:
    for node in (element, *element.iterancestors()):
        if node.get("hidden") is not None or _HIDDEN_STYLE.search(node.get("style") or ""):
            return True
    return False


def _neighbourhood(main):
    """Whether a container stands beside ``main``: their common ancestor is at most
    NEIGHBOUR_LEVELS above ``main`` (and not the page's body, unless ``main`` sits on it)."""
    ancestors = []
    for node in main.iterancestors():
        if len(ancestors) >= NEIGHBOUR_LEVELS:
            break
        if node.tag in ("body", "html") and ancestors:
            break
        ancestors.append(node)
    close = set(ancestors)

    def near(container) -> bool:
        return any(node in close for node in container.iterancestors())

    return near


MIN_SHAPED = 3  # fewer article-shaped links than this are a box, not a list
MIN_DATED = 4  # a list of unknown addresses needs this many dated items
_DATE_RE = re.compile(r"(?:19|20)\d{2}\s*[-./年]\s*\d{1,2}(?:\s*[-./月]\s*\d{1,2})?")
# A month and day alone ("[01-02]", "12/29", "1月2日") beside the title, not in it.
_MONTH_DAY_RE = re.compile(r"(?<![\d.:/-])(?:0?[1-9]|1[0-2])\s*(?:[-/]|月)\s*"
                           r"(?:0?[1-9]|[12]\d|3[01])(?![\d:/-])")
_MIN_TITLE = 6


def _dated_list(doc, absolute, page_url: str, excluded) -> list[tuple[str, str]]:
    """The container whose items each hold one title-like link and a date."""
    groups: dict[object, list] = {}
    order: list[object] = []
    chrome: dict = {}
    for anchor in doc.iter("a"):
        target = absolute(anchor.get("href"))
        text = anchor_text(anchor)
        if (not target or target == page_url or len(text) < _MIN_TITLE
                or target.lower().endswith(NON_PAGE_EXTENSIONS)
                or urlsplit(target).path in ("", "/")):
            continue
        placed = _list_container(anchor, excluded, chrome)
        if placed is None:
            continue
        container, item = placed
        if not (_dated_link(anchor) if item is anchor else _dated(item, anchor)):
            continue
        if container not in groups:
            groups[container] = []
            order.append(container)
        groups[container].append((item, anchor, target))
    candidates = [c for c in order if len({i for i, _a, _t in groups[c]}) >= MIN_DATED
                  and not _hidden(c)]
    if not candidates:
        return []
    main = max(candidates, key=lambda c: len(groups[c]))
    # One link an item: its title, the longest text (not a "[科室]" tag link before it).
    titles: dict[object, tuple[str, str]] = {}
    for item, anchor, target in groups[main]:
        text = anchor_text(anchor)
        if item not in titles or len(text) > len(titles[item][1]):
            titles[item] = (target, text)
    return unique_links(titles.values())


def _dated(item, anchor) -> bool:
    """Whether a list item shows a date: with its year anywhere, or a month and day beside
    its title."""
    text = item.text_content()
    if _DATE_RE.search(text):
        return True
    return bool(_MONTH_DAY_RE.search(text.replace(anchor.text_content(), " ", 1)))


def _dated_link(anchor) -> bool:
    """Whether a link that is a row by itself shows a date: its year in the link or after it
    up to the next link or line break, a month and day after it."""
    after = [anchor.tail or ""]
    for sibling in anchor.itersiblings():
        if sibling.tag in ("a", "br") or len(after) > 3:
            break
        text = sibling.text_content() if isinstance(sibling.tag, str) else ""
        after.append(text + (sibling.tail or ""))
    beside = " ".join(after)
    return bool(_DATE_RE.search(anchor.text_content() + " " + beside)
                or _MONTH_DAY_RE.search(beside))


def _list_container(anchor, excluded, chrome: dict | None = None):
    """(the element whose children repeat the list items, the item), or None in page chrome;
    ``chrome`` remembers which elements are chrome across the anchors of one page."""
    item = None
    node = anchor
    while node is not None:
        if chrome is None:
            outside = node in excluded or is_chrome(node)
        elif (outside := chrome.get(node)) is None:
            outside = chrome[node] = node in excluded or is_chrome(node)
        if outside:
            return None
        tag = node.tag if isinstance(node.tag, str) else ""
        if item is None and tag in _LIST_ITEM_TAGS:
            item = node
        node = node.getparent()
    if item is not None:
        # A title line in a row of its own (<div class="item"><p class="tit"><a>): the row.
        if not _repeats(item) and (row := _repeated_row(item)):
            return row
        parent = item.getparent()
        if parent is not None and parent.tag == "tbody":
            parent = parent.getparent()
        return (parent, item) if parent is not None else None
    # Lists made of bare <a>/<div> rows: group by the anchor's grandparent, or, when the
    # anchor sits deeper in its row (<div class="item"><h3><a>), by the nearest ancestor
    # that repeats beside others of its make.
    parent = anchor.getparent()
    if parent is None:
        return None
    grand = parent.getparent()
    if grand is None or _repeats(anchor):  # links one after another: each is a row
        return parent, anchor
    if _repeats(parent):
        return grand, parent
    return _repeated_row(parent) or (grand, parent)


def _repeats(element) -> bool:
    """Whether ``element``'s parent holds another child of its tag and class."""
    parent = element.getparent()
    return parent is not None and any(
        sibling is not element and sibling.tag == element.tag
        and sibling.get("class") == element.get("class") for sibling in parent)


def _repeated_row(node, levels: int = 3):
    """(container, row) for the nearest of ``levels`` ancestors that repeats, or None."""
    for _ in range(levels):
        parent = node.getparent()
        if parent is None or parent.tag in ("body", "html"):
            return None
        if _repeats(parent):
            return parent.getparent(), parent
        node = parent
    return None


# A second link in an item tagging another page (its 解读, a 图解, the file) is not an item.
_TAG_LINK_TEXT = re.compile(r"^\W*(?:政策)?(?:解读|解讀|图解|圖解|视频|視頻|音频|图片|"
                            r"附件|原文|下载|pdf|wps|ofd|相关解读|相關解讀)\W*$",
                            re.IGNORECASE)


def _with_other_items(container, linked: list, absolute) -> list[tuple[str, str]]:
    """The container's article links, plus the items of the same make whose link has another
    shape (an off-site post, a pinned page), in page order."""
    by_item: dict[object, list[tuple[str, str]]] = {}
    for item, anchor, target in linked:
        by_item.setdefault(item, []).append((target, anchor_text(anchor)))
    for item, item_links in by_item.items():
        titles = [link for link in item_links if not _TAG_LINK_TEXT.match(link[1])]
        if titles and len(titles) < len(item_links):
            by_item[item] = titles
    if len(by_item) < 3:
        return [link for links in by_item.values() for link in links]
    make = Counter((item.tag, _anchor_path(item, anchor)) for item, anchor, _t in linked)
    common_tag, common_path = make.most_common(1)[0][0]
    items = [item for item, _a, _t in linked]
    parents = {item.getparent() for item in items}
    out: list[tuple[str, str]] = []
    seen_items = set()
    for element in container.iter(common_tag):
        if element in seen_items or element.getparent() not in parents:
            continue
        seen_items.add(element)
        if element in by_item:
            out.extend(by_item[element])
            continue
        anchors = [a for a in element.iter("a") if _anchor_path(element, a) == common_path]
        if len(anchors) != 1:
            continue
        target = absolute(anchors[0].get("href"))
        text = anchor_text(anchors[0])
        if (target and len(text) >= 4 and not _PAGER_TEXT.match(text)
                and urlsplit(target).path not in ("", "/")
                and not target.lower().endswith(NON_PAGE_EXTENSIONS)):
            out.append((target, text))
    return out


# A pager or "more" link that sits in the list's last item is not an item.
_PAGER_TEXT = re.compile(r"^\W*(?:[上下前后]一?[页頁]|首[页頁]|[尾末][页頁]|更多|查看更多|"
                         r"more|next|prev|\d+)\W*$", re.IGNORECASE)


def _anchor_path(item, anchor) -> str:
    tags = []
    node = anchor
    while node is not None and node is not item:
        tags.append(node.tag if isinstance(node.tag, str) else "")
        node = node.getparent()
    return "/".join(reversed(tags))


def unique_links(links) -> list[tuple[str, str]]:
    seen: set[str] = set()
    out = []
    for target, text in links:
        if target not in seen:
            seen.add(target)
            out.append((target, text))
    return out
