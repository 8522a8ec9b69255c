"""Score crawler.extract against labelled pages, side by side with trafilatura and readability.

Usage: python bench/extract_eval.py DIR... [--verbose]

A DIR is one of
  * a test site of tests/site/sites (``expected.json`` with the articles' fields);
  * a folder with ``labels.json`` ({file: {title, date, source, author, with, without}}),
    as in shared/corpus/gov-pages and the project's tests/fixtures/pages;
  * a folder of page folders, each with page.html, date.txt, author.txt, cleaned.txt
    (shared/corpus/cwced);
  * a folder with ``index.jsonl`` and ``pages/`` (shared/corpus/real-gov): its article
    entries (title, published as shown, origin, author, body_contains, body_not_contains).
Prints per-field accuracy, mean body character-F1 and the median in-process ms/page.
"time" is scored on pages whose label shows a time of day: the extracted time must be the
same hour and minute (so its precision is minute or second, never a midnight day).
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from govarchive.crawler.extract import NotHTMLError, extract_article

_DAY = re.compile(r"^\s*(\d{4})[-/](\d{1,2})[-/](\d{1,2})")
# a time of day after the date: "2019-06-15 08:18", "2024-02-26T08:00:00+08:00"
_CLOCK = re.compile(r"^\s*\d{4}[-/]\d{1,2}[-/]\d{1,2}[ T]+(\d{1,2}):(\d{2})")
_URL = "http://example.gov.cn/page.html"


@dataclass
class Page:
    name: str
    body: bytes
    content_type: str | None = None
    title: str | None = None
    day: str | None = None  # YYYY-MM-DD, or None when the label has no day
    has_date_label: bool = False
    time: str | None = None  # HH:MM when the label shows a time of day
    author: str | None = None
    origin: str | None = None
    score_author: bool = False
    score_origin: bool = False
    score_title: bool = False
    with_: list[str] = field(default_factory=list)
    without: list[str] = field(default_factory=list)
    cleaned: str | None = None


@dataclass
class Result:
    title: str | None = None
    day: str | None = None
    author: str | None = None
    origin: str | None = None
    text: str = ""
    ms: float = 0.0
    error: str | None = None
    time: str | None = None  # HH:MM when the precision is minute or second


def _day(label: str) -> str | None:
    m = _DAY.match(label or "")
    return f"{int(m[1]):04d}-{int(m[2]):02d}-{int(m[3]):02d}" if m else None


def _clock(label: str | None) -> str | None:
    m = _CLOCK.match(label or "")
    return f"{int(m[1]):02d}:{m[2]}" if m else None


def load(folder: Path) -> list[Page]:
    labels_file = folder / "labels.json"
    pages = []
    if (folder / "expected.json").is_file():
        return _load_site(folder)
    if (folder / "index.jsonl").is_file():
        return _load_index(folder)
    if labels_file.is_file():
        for name, lab in json.loads(labels_file.read_text(encoding="utf-8")).items():
            pages.append(
                Page(
                    name=name,
                    body=(folder / name).read_bytes(),
                    content_type=lab.get("content_type"),
                    title=lab.get("title"),
                    day=_day(lab.get("date") or ""),
                    has_date_label=True,
                    time=_clock(lab.get("date")),
                    author=lab.get("author"),
                    origin=lab.get("source"),
                    score_author="author" in lab,
                    score_origin="source" in lab,
                    score_title="title" in lab,
                    with_=lab.get("with", []),
                    without=lab.get("without", []),
                    cleaned=lab.get("cleaned"),
                )
            )
        return pages
    for sub in sorted(p for p in folder.iterdir() if (p / "page.html").is_file()):
        author = _read(sub / "author.txt")
        date = _read(sub / "date.txt")
        pages.append(
            Page(
                name=sub.name,
                body=(sub / "page.html").read_bytes(),
                day=_day(date),
                time=_clock(date) if _day(date) else None,
                # labels without a day (UNKNOWN, "2018", "1998-3") are not scored for the day
                has_date_label=bool(_day(date)),
                author=None if author in ("", "UNKNOWN") else author,
                score_author=bool(author),
                cleaned=_read(sub / "cleaned.txt"),
            )
        )
    return pages


def _load_site(folder: Path) -> list[Page]:
    """A test site of tests/site/sites: expected.json maps article paths to their fields."""
    expected = json.loads((folder / "expected.json").read_text(encoding="utf-8"))
    charset = expected.get("charset")
    pages = []
    for path, art in expected["articles"].items():
        file = folder / path.lstrip("/")
        if not file.is_file():
            continue  # routes answered by the server only (query strings)
        pages.append(
            Page(
                name=path,
                body=file.read_bytes(),
                content_type=f"text/html; charset={charset}" if charset else "text/html",
                title=art.get("title"),
                day=_day(art.get("published") or ""),
                has_date_label=True,
                time=(
                    _clock(art.get("published"))
                    if art.get("published_precision") != "day"
                    else None
                ),
                author=art.get("author"),
                origin=art.get("origin"),
                score_author=True,
                score_origin=True,
                score_title=True,
                with_=art.get("body_contains", []),
            )
        )
    return pages


def _load_index(folder: Path) -> list[Page]:
    """shared/corpus/real-gov: the article entries of index.jsonl (list pages are not scored)."""
    pages = []
    for line in (folder / "index.jsonl").read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        entry = json.loads(line)
        if "article" not in entry["kind"]:
            continue
        lab = entry["labels"]
        pages.append(
            Page(
                name=entry["id"],
                body=(folder / "pages" / entry["file"]).read_bytes(),
                title=lab.get("title"),
                day=_day(lab.get("published") or ""),
                has_date_label="published" in lab,
                time=_clock(lab.get("published")),
                author=lab.get("author"),
                origin=lab.get("origin"),
                score_author="author" in lab,
                score_origin="origin" in lab,
                score_title="title" in lab,
                with_=lab.get("body_contains", []),
                without=lab.get("body_not_contains", []),
            )
        )
    return pages


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8", errors="replace").strip() if path.is_file() else ""


def char_f1(predicted: str, reference: str) -> float:
    pred = Counter("".join(predicted.split()))
    ref = Counter("".join(reference.split()))
    if not pred and not ref:
        return 1.0
    common = sum((pred & ref).values())
    if not common:
        return 0.0
    precision, recall = common / sum(pred.values()), common / sum(ref.values())
    return 2 * precision * recall / (precision + recall)


def run_ours(page: Page) -> Result:
    start = time.perf_counter()
    try:
        art = extract_article(page.body, _URL, content_type=page.content_type)
    except NotHTMLError as exc:
        return Result(ms=(time.perf_counter() - start) * 1000, error=str(exc))
    ms = (time.perf_counter() - start) * 1000
    day = art.published_at.date().isoformat() if art.published_at else None
    clock = (
        art.published_at.strftime("%H:%M")
        if art.published_at and art.published_precision in ("minute", "second")
        else None
    )
    return Result(art.title, day, art.author, art.origin, art.body_text, ms, time=clock)


def run_trafilatura(page: Page) -> Result | None:
    import trafilatura

    start = time.perf_counter()
    doc = trafilatura.bare_extraction(page.body, url=_URL, with_metadata=True)
    ms = (time.perf_counter() - start) * 1000
    if doc is None:
        return Result(ms=ms)
    get = (lambda k: getattr(doc, k, None)) if not isinstance(doc, dict) else doc.get
    date = get("date") or ""
    return Result(
        get("title"), _day(date), get("author"), None, get("text") or "", ms, time=_clock(date)
    )


def run_readability(page: Page) -> Result | None:
    import lxml.html
    from readability import Document

    start = time.perf_counter()
    doc = Document(page.body)
    html = doc.summary(html_partial=True)
    title = doc.short_title()
    text = (
        "\n".join(t.strip() for t in lxml.html.fromstring(html).itertext() if t.strip())
        if html.strip()
        else ""
    )
    ms = (time.perf_counter() - start) * 1000
    return Result(title, None, None, None, text, ms)


def _same(a: str | None, b: str | None) -> bool:
    norm = lambda s: "".join((s or "").split())
    return norm(a) == norm(b)


def _tick(row: list[bool], ok: bool, misses: list[str], why: str) -> None:
    row.append(ok)
    if not ok:
        misses.append(why)


def score(pages: list[Page], results: list[Result], verbose: str | None) -> dict[str, str]:
    rows: dict[str, list[bool]] = {
        "title": [],
        "day": [],
        "time": [],
        "author": [],
        "origin": [],
        "with/without": [],
    }
    f1s = []
    for page, res in zip(pages, results):
        misses = []
        if page.score_title:
            _tick(rows["title"], _same(res.title, page.title), misses, f"title={res.title!r}")
        if page.has_date_label:
            _tick(rows["day"], res.day == page.day, misses, f"day={res.day} want {page.day}")
        if page.time:
            _tick(rows["time"], res.time == page.time, misses, f"time={res.time} want {page.time}")
        if page.score_author:
            _tick(
                rows["author"],
                _same(res.author, page.author),
                misses,
                f"author={res.author!r} want {page.author!r}",
            )
        if page.score_origin:
            _tick(
                rows["origin"],
                _same(res.origin, page.origin),
                misses,
                f"origin={res.origin!r} want {page.origin!r}",
            )
        if page.with_ or page.without:
            text = "".join(res.text.split())
            ok = all("".join(w.split()) in text for w in page.with_) and not any(
                w in res.text for w in page.without
            )
            _tick(rows["with/without"], ok, misses, "with/without")
        if page.cleaned is not None:
            f1 = char_f1(res.text, page.cleaned)
            f1s.append(f1)
            if f1 < 0.8:
                misses.append(f"bodyF1={f1:.2f}")
        if verbose and misses:
            print(f"  [{verbose}] {page.name}: {'; '.join(misses)}", file=sys.stderr)
    out = {k: (f"{sum(v)}/{len(v)} {sum(v) / len(v):.2f}" if v else "-") for k, v in rows.items()}
    out["body char-F1"] = f"{statistics.mean(f1s):.3f}" if f1s else "-"
    out["ms/page (median)"] = f"{statistics.median(r.ms for r in results):.1f}"
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("dirs", nargs="+", type=Path)
    parser.add_argument("--repeat", type=int, default=3, help="runs per page; the fastest counts")
    parser.add_argument("--verbose", action="store_true", help="list every page's misses on stderr")
    args = parser.parse_args(argv)
    extractors = {"govarchive": run_ours}
    for name, module, fn in (
        ("trafilatura", "trafilatura", run_trafilatura),
        ("readability", "readability", run_readability),
    ):
        try:
            __import__(module)
            extractors[name] = fn
        except ImportError:
            print(f"{name} is not installed: its column is skipped", file=sys.stderr)
    for folder in args.dirs:
        pages = load(folder)
        if not pages:
            print(f"{folder}: no labelled pages found", file=sys.stderr)
            continue
        columns = {}
        for name, fn in extractors.items():
            fn(pages[0])  # warm-up: imports and caches are not the page's cost
            results = []
            for page in pages:
                try:
                    runs = [fn(page) for _ in range(args.repeat)]
                except Exception as exc:  # noqa: BLE001 - a competitor's crash is a miss, not the end
                    results.append(Result(error=f"{type(exc).__name__}: {exc}"))
                    continue
                # the fastest of N runs: the page's cost without the shared machine's noise
                runs[0].ms = min(r.ms for r in runs)
                results.append(runs[0])
            columns[name] = score(pages, results, name if args.verbose else None)
        print(f"\n{folder} ({len(pages)} pages)")
        names = list(columns)
        print(f"{'metric':<18}" + "".join(f"{n:>16}" for n in names))
        for metric in next(iter(columns.values())):
            print(f"{metric:<18}" + "".join(f"{columns[n][metric]:>16}" for n in names))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
