"""Which CMS published a page, and the evidence for it: for people reading a probe's report.

The crawl does not branch on the family (every finder runs on every page); knowing it tells
a user what to expect from a section (script pagination on TRS, a data proxy on Hanweb JCMS,
an XHR list on Hanweb JPaaS) and which hints help when the automatic finders come up short.
Each family is recognised by markers its pages carry; the family with the most weight wins,
and its markers are the evidence shown.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

TRS = "TRS WCM"
GOVCN = "www.gov.cn (TRS)"
HANWEB_JCMS = "Hanweb JCMS (大汉)"
HANWEB_JPAAS = "Hanweb JPaaS (集约化)"
UCAP = "开普云 UCAP (集约化)"
ASPNET = "ASP.NET"
PHP = "PHP"
VSB = "VSB (博达)"
UNKNOWN = "unknown"

# (family, weight, description, pattern searched in the page text); a pattern matching
# anything counts once, however often it occurs.
_TEXT_MARKERS: list[tuple[str, int, str, str]] = [
    (TRS, 3, "createPageHTML(...) pager script", r"createPageHTML\s*\("),
    (TRS, 2, "TRS WCM ids/classes (TRS_Editor, TRSDesignMode, trs_*)",
     r"TRS_Editor|TRSDesignMode|class=[\"']trs_|id=[\"']trs_"),
    (TRS, 2, "links of TRS article shape ./YYYYMM/tYYYYMMDD_N.htm",
     r"href=[\"'][^\"']*/t(?:19|20)\d{6}_\d+\.s?html?[\"']"),
    (TRS, 1, "document.write pager with index_N pages", r"index_\"\s*\+|\"index\"\s*,\s*\"s?html?\""),
    (GOVCN, 3, "www.gov.cn content_N.htm article links",
     r"href=[\"'][^\"']*/content_\d+\.htm[\"']"),
    (HANWEB_JCMS, 3, "<datastore> list records (Hanweb jpage)", r"<datastore\b"),
    (HANWEB_JCMS, 2, "jpage data proxy (/module/web/jpage/dataproxy.jsp)",
     r"/module/web/jpage/|dataproxy\.jsp"),
    (HANWEB_JCMS, 2, "/col/colNNN/index.html column links", r"/col/col\d+/index\.html"),
    (HANWEB_JCMS, 1, "art_N_N.html article links", r"/art_\d+_\d+\.html"),
    (HANWEB_JCMS, 1, "Hanweb script or copyright", r"hanweb|jcms"),
    (HANWEB_JPAAS, 4, "JPaaS publish API (api-gateway/jpaas-publish-server)",
     r"jpaas-publish-server|api-gateway/jpaas"),
    (HANWEB_JPAAS, 3, "unitbuild.js (list built in the browser)", r"unitbuild"),
    (HANWEB_JPAAS, 1, "jpaas in scripts", r"jpaas"),
    (UCAP, 4, "UCAP content ids (ucapcontent/ucaptitle, #UCAP-CONTENT)",
     r"ucapcontent|ucaptitle|UCAP-CONTENT"),
    (UCAP, 2, "开普云 (kaipuyun) scripts", r"kaipuyun|ucms"),
    (UCAP, 1, "集约化平台 in the page", r"集约化"),
    (ASPNET, 3, "ASP.NET form state (__VIEWSTATE, __doPostBack)", r"__VIEWSTATE|__doPostBack"),
    (ASPNET, 2, ".aspx links", r"href=[\"'][^\"']*\.aspx\b"),
    (PHP, 2, ".php links", r"href=[\"'][^\"']*\.php\b"),
    (PHP, 2, "DedeCMS/PHPCMS front scripts (plus/view.php, index.php?m=content)",
     r"/plus/(?:view|list)\.php|index\.php\?m=content"),
    (PHP, 2, "DedeCMS list pages (list_N_M.html)", r"href=[\"'](?:[^\"']*/)?list_\d+_\d+\.html"),
    (VSB, 3, "Visual SiteBuilder mark", r"Visual\s*SiteBuilder"),
    (VSB, 2, "VSB resource scripts (/system/resource/)", r"/system/resource/"),
    (VSB, 2, "VSB pager classes (pb_sys_common, p_next)", r"pb_sys_|class=[\"']p_(?:no|next)"),
    (VSB, 1, "info/N/N.htm article links", r"href=[\"'][^\"']*info/\d+/\d+\.htm"),
]
_COMPILED = [(f, w, d, re.compile(p, re.IGNORECASE)) for f, w, d, p in _TEXT_MARKERS]
_GENERATOR_RE = re.compile(
    r"<meta[^>]+name=[\"']generator[\"'][^>]*content=[\"']([^\"']+)|"
    r"<meta[^>]+content=[\"']([^\"']+)[\"'][^>]*name=[\"']generator[\"']",
    re.IGNORECASE,
)
_GENERATORS = [(r"^TRS", TRS), (r"hanweb|jcms", HANWEB_JCMS), (r"ucap|kaipuyun", UCAP)]


@dataclass
class Family:
    """A recognised CMS family and the markers that point to it (empty for unknown)."""

    name: str = UNKNOWN
    evidence: list[str] = field(default_factory=list)


def recognise_family(text: str, url: str, headers: Mapping[str, str] | None = None) -> Family:
    """The CMS family of a page from its decoded ``text``, its address and (live) its headers.
    ``headers`` maps lower-case header names to values."""
    scores: dict[str, int] = {}
    evidence: dict[str, list[str]] = {}

    def found(family: str, weight: int, why: str) -> None:
        scores[family] = scores.get(family, 0) + weight
        evidence.setdefault(family, []).append(why)

    for family, weight, why, pattern in _COMPILED:
        if pattern.search(text):
            found(family, weight, why)
    generator = _GENERATOR_RE.search(text[:20000])
    if generator:
        value = (generator.group(1) or generator.group(2)).strip()
        for pattern, family in _GENERATORS:
            if re.search(pattern, value, re.IGNORECASE):
                found(family, 4, f'<meta name="generator" content="{value}">')
    parts = urlsplit(url)
    path = parts.path.lower()
    if parts.hostname == "www.gov.cn" or (
            (parts.hostname or "").endswith(".www.gov.cn") and "/www.gov.cn/" in path):
        found(GOVCN, 3, f"host {parts.hostname}")  # big5.www.gov.cn: its Big5 gateway
    if re.search(r"/col/col\d+/", path):
        found(HANWEB_JCMS, 2, "URL /col/colNNN/")
    if path.endswith(".aspx"):
        found(ASPNET, 3, "URL ends in .aspx")
    if path.endswith(".php"):
        found(PHP, 3, "URL ends in .php")
    for name, value in (headers or {}).items():
        lowered = value.lower()
        if name == "x-aspnet-version" or (name == "x-powered-by" and "asp.net" in lowered):
            found(ASPNET, 4, f"header {name}: {value}")
        elif name == "x-powered-by" and "php" in lowered:
            found(PHP, 4, f"header {name}: {value}")
        elif name == "set-cookie" and "phpsessid" in lowered:
            found(PHP, 2, "PHPSESSID cookie")
        elif name == "set-cookie" and "asp.net_sessionid" in lowered:
            found(ASPNET, 2, "ASP.NET_SessionId cookie")
    # www.gov.cn runs TRS with its own pager: its markers add to its own family.
    if GOVCN in scores and TRS in scores:
        scores[GOVCN] += scores.pop(TRS)
        evidence[GOVCN] += evidence.pop(TRS)
    # A JPaaS page carries the JCMS markers too (same vendor); the API is what tells them apart.
    if HANWEB_JPAAS in scores and HANWEB_JCMS in scores and scores[HANWEB_JPAAS] >= 3:
        scores[HANWEB_JPAAS] += scores.pop(HANWEB_JCMS)
        evidence[HANWEB_JPAAS] += evidence.pop(HANWEB_JCMS)
    if not scores:
        return Family()
    best = max(scores, key=lambda family: scores[family])  # first listed wins a tie
    if scores[best] < 2:
        return Family(UNKNOWN, [f"weak hint only: {'; '.join(evidence[best])}"])
    return Family(best, evidence[best])
