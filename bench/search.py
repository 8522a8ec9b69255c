"""Search latency at two archive sizes (issue 7): median and p95 of ``Store.search``.

    /work/venv/bin/python bench/search.py [--sizes 10000,1000000] [--backend sqlite|postgresql]
        [--database-url URL] [--body-words 80] [--repeat 5] [--keep DIR]

For each size it builds a database of synthetic articles (Zipf-distributed vocabulary of
2-3 character words, so some queries are common and most are rare, as with real news), with
bulk inserts straight into the migrated schema (executemany on SQLite, COPY on PostgreSQL;
the search index rows come from ``storage.search_index.keyed_row``, the same tokenizer ingest
uses). Then it runs the same query mix against each size through ``Store.search`` (total
count + one page of 20 records, as the API does) and prints median and p95 per query class
and overall, and the growth from the smallest to the largest size (target: <= 3x).

PostgreSQL needs ``--database-url`` (each size gets a schema of its own, dropped afterwards).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

import sqlalchemy as sa

from govarchive.storage import Store
from govarchive.storage import engine as db
from govarchive.storage.search_index import SEARCH_TABLE, keyed_row

SOURCES = ["difang", "yaowen", "zhengce", "tongzhi"]
VOCABULARY = 20_000
SENTENCES = 50_000
CHUNK = 20_000
START = datetime(2015, 1, 1, tzinfo=UTC)
# Query classes by the Zipf rank of their words: the lower the rank, the more hits.
CLASSES = {"common (rank 20-60)": (20, 60), "mid (rank 300-1000)": (300, 1000),
           "rare (rank 3000-10000)": (3000, 10000)}


def vocabulary(rng: random.Random) -> list[str]:
    chars = [chr(c) for c in range(0x4E00, 0x4E00 + 3500)]
    words: dict[str, None] = {}
    while len(words) < VOCABULARY:
        words["".join(rng.choices(chars, k=rng.choice((2, 2, 2, 3))))] = None
    return list(words)


class Text:
    """Sentences of Zipf-sampled words, pre-made so a million bodies are quick to assemble."""

    def __init__(self, rng: random.Random, words: list[str]) -> None:
        self.rng, self.words = rng, words
        total, cumulative = 0.0, []
        for rank in range(len(words)):
            total += 1 / (rank + 1)
            cumulative.append(total)
        self.sentences = []
        for _ in range(SENTENCES):
            picked = rng.choices(words, cum_weights=cumulative, k=rng.randint(6, 14))
            middle = rng.randint(2, len(picked) - 2)
            self.sentences.append("".join(picked[:middle]) + "，" + "".join(picked[middle:]) + "。")
        self.title_words = words[:4000]

    def body(self, n_words: int) -> str:
        return "".join(self.rng.choices(self.sentences, k=max(1, n_words // 10)))

    def title(self) -> str:
        return "".join(self.rng.choices(self.title_words, k=self.rng.randint(3, 6)))


def _article_rows(n: int, text: Text, body_words: int, rng: random.Random):
    for i in range(1, n + 1):
        published = START + timedelta(minutes=rng.randrange(11 * 365 * 24 * 60))
        seen = published + timedelta(hours=1)
        yield {
            "id": i, "source_id": 1 + i % len(SOURCES), "url": f"https://bench.test/{i}.htm",
            "status": "removed" if i % 50 == 0 else "live", "first_seen": seen,
            "last_seen": seen, "last_changed": seen, "gone_count": 0, "title": text.title(),
            "published_at": published.astimezone().isoformat(), "published_utc": published,
            "published_precision": "minute", "origin": rng.choice(["新华社", "人民日报", "办公厅"]),
            "section": "[]", "body_text": text.body(body_words), "attachments": "[]",
            "content_hash": f"sha256:{i:064x}",
        }


COLUMNS = ("id", "source_id", "url", "status", "first_seen", "last_seen", "last_changed",
           "gone_count", "title", "published_at", "published_utc", "published_precision",
           "origin", "section", "body_text", "attachments", "content_hash")


def build(url: str, n: int, body_words: int, seed: int) -> float:
    """Create and fill the database; returns the seconds it took."""
    started = time.perf_counter()
    with Store(url) as store:
        store.migrate()
        store.set_sources({name: None for name in SOURCES})
    rng = random.Random(seed)
    text = Text(rng, vocabulary(random.Random(seed)))
    engine = db.create_engine(db.parse_url(url))
    raw = engine.raw_connection()
    try:
        if engine.dialect.name == "postgresql":
            _load_postgresql(raw, n, text, body_words, rng)
        else:
            _load_sqlite(raw, n, text, body_words, rng)
        raw.commit()
    finally:
        raw.close()
        engine.dispose()
    return time.perf_counter() - started


def _sqlite_value(value):
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
    return value


def _load_sqlite(raw, n, text, body_words, rng) -> None:
    cur = raw.cursor()
    cur.execute("PRAGMA synchronous=OFF")
    insert = (f"INSERT INTO articles ({', '.join(COLUMNS)}) "
              f"VALUES ({', '.join('?' * len(COLUMNS))})")
    search_sql = f"INSERT INTO {SEARCH_TABLE} (rowid, title, body) VALUES (?, ?, ?)"
    batch = []
    for row in _article_rows(n, text, body_words, rng):
        batch.append(row)
        if len(batch) == CHUNK:
            _flush_sqlite(cur, insert, search_sql, batch)
            batch = []
    _flush_sqlite(cur, insert, search_sql, batch)
    cur.execute(f"INSERT INTO {SEARCH_TABLE}({SEARCH_TABLE}) VALUES ('optimize')")
    raw.commit()
    cur.execute("ANALYZE")


def _flush_sqlite(cur, insert, search_sql, batch) -> None:
    cur.execute("BEGIN")
    cur.executemany(insert, [tuple(_sqlite_value(r[c]) for c in COLUMNS) for r in batch])
    rows = [keyed_row("sqlite", _index_row(r)) for r in batch]
    cur.executemany(search_sql, [(r["rowid"], r["title"], r["body"]) for r in rows])
    cur.execute("COMMIT")


def _load_postgresql(raw, n, text, body_words, rng) -> None:
    cur = raw.cursor()
    # A GIN index is built much faster in one go than row by row.
    cur.execute(f"DROP INDEX ix_{SEARCH_TABLE}_document")
    batch = []
    for row in _article_rows(n, text, body_words, rng):
        batch.append(row)
        if len(batch) == CHUNK:
            _flush_postgresql(cur, batch)
            batch = []
    _flush_postgresql(cur, batch)
    cur.execute("SELECT setval(pg_get_serial_sequence('articles', 'id'), %s)", (n,))
    cur.execute("SET maintenance_work_mem = '512MB'")
    cur.execute(f"CREATE INDEX ix_{SEARCH_TABLE}_document ON {SEARCH_TABLE} USING gin (document)")
    raw.commit()
    # What autovacuum does to a table that has had inserts: statistics, and the visibility
    # map (bitmap scans skip the heap of all-visible pages).
    driver = raw.driver_connection
    driver.autocommit = True
    driver.execute("VACUUM ANALYZE")
    driver.autocommit = False


def _flush_postgresql(cur, batch) -> None:
    with cur.copy(f"COPY articles ({', '.join(COLUMNS)}) FROM STDIN") as copy:
        for row in batch:
            copy.write_row([row[c] for c in COLUMNS])
    with cur.copy(f"COPY {SEARCH_TABLE} (article_id, sort_key, document) FROM STDIN") as copy:
        for row in batch:
            doc = keyed_row("postgresql", _index_row(row))
            copy.write_row([doc["article_id"], doc["sort_key"], doc["document"]])


def _index_row(row: dict) -> tuple:
    return row["id"], row["title"], row["body_text"], row["published_utc"]


def queries(seed: int) -> list[tuple[str, str, dict]]:
    """(class, q, filters): single words, two words, a phrase, and with filters."""
    rng, words = random.Random(seed + 1), vocabulary(random.Random(seed))
    out = []
    for name, (low, high) in CLASSES.items():
        for _ in range(6):
            out.append((name, words[rng.randrange(low, high)], {}))
        out.append((name, words[rng.randrange(low, high)], {"source": "difang"}))
        out.append((name, words[rng.randrange(low, high)],
                    {"since": date(2020, 1, 1), "until": date(2022, 12, 31), "status": "live"}))
        pair = f"{words[rng.randrange(low, high)]} {words[rng.randrange(20, 1000)]}"
        out.append((name, pair, {}))
        out.append((name, '"' + words[rng.randrange(low, high)] + words[rng.randrange(low, high)]
                    + '"', {}))
    return out


def measure(url: str, mix, repeat: int) -> dict[str, list[float]]:
    timings: dict[str, list[float]] = {name: [] for name in CLASSES}
    with Store(url) as store:
        for _, q, filters in mix[:3]:  # warm the caches and the connection pool
            store.search(q, **filters)
        for _ in range(repeat):
            for name, q, filters in mix:
                started = time.perf_counter()
                store.search(q, limit=20, **filters)
                timings[name].append((time.perf_counter() - started) * 1000)
    return timings


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) > 1 else values[0]


def _database(args, folder: Path, n: int) -> tuple[str, callable]:
    if args.backend == "sqlite":
        return f"sqlite:///{folder / f'search-{n}.db'}", lambda: None
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(args.database_url)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in args.database_url else "?"

    def drop() -> None:
        if args.keep:
            print(f"kept: {args.database_url}{sep}options=-csearch_path%3D{schema}")
            return
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()

    return f"{args.database_url}{sep}options=-csearch_path%3D{schema}", drop


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,1000000",
                        help="comma-separated article counts (default: 10000,1000000)")
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--database-url", help="PostgreSQL server URL (with --backend postgresql)")
    parser.add_argument("--body-words", type=int, default=80, help="words a body (about 2.3 chars each)")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", type=Path,
                        help="keep the databases (SQLite: build them in this folder)")
    parser.add_argument("--json", action="store_true", help="also print the figures as JSON")
    args = parser.parse_args(argv)
    if args.backend == "postgresql" and not args.database_url:
        parser.error("--backend postgresql needs --database-url")
    sizes = [int(s) for s in args.sizes.split(",")]
    folder = args.keep or Path(tempfile.mkdtemp(prefix="govarchive-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    mix = queries(args.seed)
    results = {}
    for n in sizes:
        url, drop = _database(args, folder, n)
        try:
            built = build(url, n, args.body_words, args.seed)
            timings = measure(url, mix, args.repeat)
        finally:
            drop()
        everything = [t for values in timings.values() for t in values]
        results[n] = {"build_s": round(built, 1), "median_ms": statistics.median(everything),
                      "p95_ms": p95(everything),
                      "classes": {k: (statistics.median(v), p95(v)) for k, v in timings.items()}}
        print(f"{args.backend} {n:>9,} articles  built in {built:7.1f} s   "
              f"median {results[n]['median_ms']:8.2f} ms   p95 {results[n]['p95_ms']:8.2f} ms")
        for name, (median, high) in results[n]["classes"].items():
            print(f"    {name:<24} median {median:8.2f} ms   p95 {high:8.2f} ms")
        sys.stdout.flush()
    small, large = results[sizes[0]], results[sizes[-1]]
    if len(sizes) > 1:
        growth = large["median_ms"] / small["median_ms"]
        growth95 = large["p95_ms"] / small["p95_ms"]
        verdict = "within" if growth <= 3 else "ABOVE"
        print(f"growth {sizes[0]:,} -> {sizes[-1]:,}: median x{growth:.2f}, p95 x{growth95:.2f}"
              f" ({verdict} the 3x target on the median)")
    if args.json:
        print(json.dumps(results))
    if not args.keep and args.backend == "sqlite":
        for n in sizes:
            for path in folder.glob(f"search-{n}.db*"):
                path.unlink()
        folder.rmdir()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
