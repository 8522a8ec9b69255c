"""Score section walking (``govarchive sources probe`` on saved pages) against the real-gov labels.

Usage: python bench/probe_eval.py [DIR] [--json] [--verbose]

DIR is a folder with ``index.jsonl`` and ``pages/`` (default ../shared/corpus/real-gov next
to the repository). Every page of kind list, json-feed, section hub or redirect stub is probed
as ``sources probe FILE --url ORIGINAL_URL --json`` would (the same function), and compared
with its labels:

* ``article_links``: recall and precision of the links found (a label of no links scores
  precision 1 when none is found, 0 otherwise); ``order`` says whether the links found in
  the label come in the label's order;
* the next request, by what the label gives: ``next_page`` as a URL (the first further request
  is a GET of it) or as ``{method, url, form}`` (same method and URL, the form's fields in the
  body); a json-feed's ``next_page`` text naming ``pageNo=N`` (the first request asks page N);
  ``list_loaded_from`` (the first request goes to that API); ``redirect_to`` (the probe names
  that redirect); ``section_links`` (recall of the hub's sections the probe names). A page
  whose label has none of these (a list of one page) scores a hit when no request is made.

Prints one line a page, the means per cms_family, and the overall means. Skips (exit 0) when
the folder is absent.
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import statistics
import sys
import unicodedata
from collections import defaultdict
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from govarchive.crawler.probe import probe_list_page

DEFAULT_DIR = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "real-gov"
_PAGE_NO = re.compile(r"pageNo\"?\s*[:=]\s*(\d+)")


def probed_kind(kind: str) -> bool:
    return kind.startswith(("list", "json-feed", "section hub"))


def _label_value(value):
    """Some labels hold a Python dict's text; read it back."""
    if isinstance(value, str) and value.startswith("{"):
        try:
            return ast.literal_eval(value)
        except (ValueError, SyntaxError):
            return value
    return value


def link_scores(found: list[str], labelled: list[str] | None) -> dict:
    if labelled is None:
        return {"recall": None, "precision": None, "order": None}
    hits = [u for u in found if u in set(labelled)]
    if not labelled:
        return {"recall": None, "precision": 1.0 if not found else 0.0, "order": None}
    positions = [labelled.index(u) for u in hits]
    return {
        "recall": len(set(hits)) / len(labelled),
        "precision": len(hits) / len(found) if found else None,
        "order": positions == sorted(positions) if hits else None,
    }


def next_check(labels: dict, report: dict) -> tuple[str, bool | float | None]:
    """(what was checked, hit) for the page's "how to get more of the list" label."""
    requests = report["list_requests"]
    first = requests[0] if requests else None
    if labels.get("redirect_to"):
        return "redirect_to", report.get("redirect_to") == labels["redirect_to"]
    if labels.get("section_links"):
        wanted = _label_value(labels["section_links"])
        got = set(report.get("section_links") or [])
        return "section_links", len(got & set(wanted)) / len(wanted)
    loaded = _label_value(labels.get("list_loaded_from"))
    if isinstance(loaded, dict) and loaded.get("url"):
        api = urlsplit(loaded["url"])
        hit = first is not None and (urlsplit(first["url"]).netloc, urlsplit(first["url"]).path) \
            == (api.netloc, api.path)
        return "list_loaded_from", hit
    nxt = _label_value(labels.get("next_page"))
    if isinstance(nxt, dict):
        if first is None:
            return "next_page (POST)", False
        body = dict(parse_qsl(first["body"] or "", keep_blank_values=True))
        form = nxt.get("form") or {}
        hit = (first["method"] == nxt.get("method", "GET") and first["url"] == nxt["url"]
               and all(body.get(k) == str(v) for k, v in form.items()))
        return f"next_page ({nxt.get('method', 'GET')})", hit
    if isinstance(nxt, str) and nxt.startswith(("http://", "https://")):
        hit = first is not None and first["method"] == "GET" and first["url"] == nxt
        return "next_page", hit
    if isinstance(nxt, str) and _PAGE_NO.search(nxt):
        page = _PAGE_NO.search(nxt).group(1)
        asked = unquote(f"{first['url']} {first['body'] or ''}") if first else ""
        return "next_page (pageNo)", bool(_PAGE_NO.search(asked)) and \
            _PAGE_NO.search(asked).group(1) == page
    if nxt is None:
        return "one page", not requests
    return "next_page (unreadable label)", None


def evaluate(folder: Path) -> list[dict]:
    rows = []
    for line in (folder / "index.jsonl").read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        page = json.loads(line)
        if not probed_kind(page["kind"]):
            continue
        body = (folder / "pages" / page["file"]).read_bytes()
        url = page["original_url"].split(" ")[0]
        content_type = "application/json" if page["file"].endswith(".json") else None
        report = probe_list_page(body, url, content_type=content_type).to_json()
        labels = page["labels"]
        labelled = labels.get("article_links") if "article_links" in labels else None
        scores = link_scores(report["article_links"], labelled)
        checked, hit = next_check(labels, report)
        rows.append({
            "id": page["id"], "kind": page["kind"], "cms_family": page["cms_family"],
            "probe_family": report["family"], "found": len(report["article_links"]),
            "labelled": None if labelled is None else len(labelled), **scores,
            "next_checked": checked, "next_hit": hit,
            "first_request": (report["list_requests"] or [None])[0],
        })
    return rows


def _mean(values) -> float | None:
    values = [float(v) for v in values if v is not None]
    return statistics.fmean(values) if values else None


def _pad(text: str, width: int) -> str:
    """``text`` cut and padded to ``width`` columns (Chinese characters take two)."""
    out, used = "", 0
    for char in text:
        w = 2 if unicodedata.east_asian_width(char) in "WF" else 1
        if used + w > width:
            break
        out, used = out + char, used + w
    return out + " " * (width - used)


def _fmt(value) -> str:
    if value is None:
        return "  -  "
    if isinstance(value, bool):
        return "hit " if value else "miss"
    return f"{value:.2f}"


def summary(rows: list[dict]) -> dict:
    return {"pages": len(rows), "recall": _mean(r["recall"] for r in rows),
            "precision": _mean(r["precision"] for r in rows),
            "next_hits": _mean(r["next_hit"] for r in rows)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folder", nargs="?", type=Path, default=DEFAULT_DIR,
                        help="the real-gov corpus folder (index.jsonl, pages/)")
    parser.add_argument("--json", action="store_true", help="print the rows and means as JSON")
    parser.add_argument("--verbose", action="store_true", help="print each page's first request")
    args = parser.parse_args(argv)
    if not (args.folder / "index.jsonl").is_file():
        print(f"skipped: {args.folder} has no index.jsonl (the real-gov corpus is optional)")
        return 0
    rows = evaluate(args.folder)
    families: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        families[row["cms_family"]].append(row)
    if args.json:
        print(json.dumps({"pages": rows, "families": {f: summary(r) for f, r in families.items()},
                          "overall": summary(rows)}, ensure_ascii=False, indent=2))
        return 0
    print(f"{'page':28} {'probe family':22} {'found/lab':>9} {'recall':>6} {'prec':>5} "
          f"{'order':>5}  next ({'checked'})")
    for r in rows:
        labelled = "-" if r["labelled"] is None else r["labelled"]
        order = "-" if r["order"] is None else ("yes" if r["order"] else "no")
        print(f"{_pad(r['id'], 28)} {_pad(r['probe_family'], 22)} {r['found']:>4}/{labelled:<4} "
              f"{_fmt(r['recall']):>6} {_fmt(r['precision']):>5} {order:>5}  "
              f"{_fmt(r['next_hit'])} ({r['next_checked']})")
        if args.verbose and r["first_request"]:
            req = r["first_request"]
            print(f"{'':30}first request: {req['method']} {req['url']}")
    print()
    print(f"{'cms_family (label)':58} {'pages':>5} {'recall':>6} {'prec':>5} {'next':>5}")
    for family, members in sorted(families.items()):
        s = summary(members)
        print(f"{_pad(family, 58)} {s['pages']:>5} {_fmt(s['recall']):>6} "
              f"{_fmt(s['precision']):>5} {_fmt(s['next_hits']):>5}")
    s = summary(rows)
    print(f"{'mean over pages':58} {s['pages']:>5} {_fmt(s['recall']):>6} "
          f"{_fmt(s['precision']):>5} {_fmt(s['next_hits']):>5}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
