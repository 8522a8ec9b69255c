"""Near-duplicate articles (mirrors): OpenCC t2s, MinHash, LSH band keys in an SQL table.

A Traditional-Chinese mirror (or another site reposting a notice) is a separate article whose
text is the same once both are reduced to Simplified characters. Linking them must not need a
search server, so the LSH index lives in the database: each article's MinHash signature is cut
into bands, and each band's hash is a row of ``dedup_bands``. Articles sharing a band key are
candidates; a candidate becomes a duplicate only when the two signatures (``dedup_signatures``)
agree in at least ``THRESHOLD`` of their values (the estimated Jaccard similarity of the two
texts' character shingles). Links never merge articles and never decide versions.

The conversion is OpenCC's character-level ``t2s`` table: the phrase-level profiles (``tw2sp``
and friends) also rewrite vocabulary (軟體 -> 软件), which would make a mirror *less* like its
mainland original, not more.

A pair is (re)examined whenever either article's content changes, using both articles' current
content, so the links depend only on the final content of each article and never on the order
in which articles were stored.
"""

from __future__ import annotations

import hashlib
import re
import struct
import zlib
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import sqlalchemy as sa

from storage.content import strip_chrome
from storage.models import Article, ArticleDuplicate, DedupBand, DedupSignature

NUM_PERM = 64
# 10 bands of 6 rows: a pair at Jaccard 0.8 is a candidate with probability 0.95, at 0.5 with
# 0.15, at 0.4 with 0.04. Lower thresholds flood templated sections (every 通知 of one office
# shares its boilerplate) with candidates that all fail THRESHOLD anyway.
BANDS = 10
ROWS = 6
SHINGLE = 3
THRESHOLD = 0.8
# Shorter texts (a title and a line) are too alike across unrelated notices to compare.
MIN_CHARS = 40
SEED = 20240301
# PostgreSQL advisory lock key held while an ingest links near-duplicates ("govdedup").
_LINKING_LOCK = 0x676F7664656475
# Everything but letters and digits (CJK included): punctuation differs between the
# Traditional and Simplified typesetting of the same text (「」 vs “”).
_NOT_WORD = re.compile(r"[\W_]+")


@lru_cache(maxsize=1)
def _t2s_table() -> dict[int, str]:
    """OpenCC's Traditional-to-Simplified *character* table as a ``str.translate`` table.

    The same mapping as OpenCC's ``t2s`` character step; used directly because converting
    character by character is all near-duplicate detection needs, and a translate table is
    a hundred times faster than the pure-Python converter on 20 KB articles.
    """
    import opencc

    path = Path(opencc.__file__).resolve().parent / "dictionary" / "TSCharacters.txt"
    table: dict[int, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        source, _, targets = line.partition("\t")
        if len(source) == 1 and targets.split():
            table[ord(source)] = targets.split()[0]
    return table


def comparable_text(title: str | None, body: str | None) -> str:
    """Title and body in Simplified characters, without chrome, punctuation or spaces."""
    text = strip_chrome(f"{title or ''}\n{body or ''}")
    return _NOT_WORD.sub("", text.translate(_t2s_table())).lower()


def shingles(text: str) -> set[str]:
    if len(text) < SHINGLE:
        return {text} if text else set()
    return {text[i : i + SHINGLE] for i in range(len(text) - SHINGLE + 1)}


def signature(grams: set[str]) -> list[int]:
    """The MinHash signature of a shingle set (NUM_PERM values below 2**32)."""
    # CRC-32 as the base hash: stable across processes (unlike hash()) and several times
    # faster than datasketch's default SHA-1 on the thousands of shingles of a long notice.
    # Imported here: datasketch brings numpy, which the service and the CLI need only when an
    # article is actually compared.
    from datasketch import MinHash

    minhash = MinHash(num_perm=NUM_PERM, seed=SEED, hashfunc=zlib.crc32)
    minhash.update_batch([g.encode("utf-8") for g in grams])
    return [int(v) for v in minhash.hashvalues]


def band_keys(values: list[int]) -> list[str]:
    """The LSH band keys of a signature: ``"<band>:<hash of the band's values>"``."""
    keys = []
    for band in range(BANDS):
        chunk = struct.pack(f">{ROWS}Q", *values[band * ROWS : (band + 1) * ROWS])
        keys.append(f"{band:02d}:{hashlib.blake2b(chunk, digest_size=10).hexdigest()}")
    return keys


def similarity(a: list[int], b: list[int]) -> float:
    """Estimated Jaccard similarity: the share of equal MinHash values."""
    if len(a) != len(b) or not a:
        return 0.0
    return sum(x == y for x, y in zip(a, b, strict=True)) / len(a)


def _texts(conn: sa.Connection, ids: Iterable[int]) -> dict[int, str]:
    ids = sorted(set(ids))
    found: dict[int, str] = {}
    for start in range(0, len(ids), 500):
        stmt = sa.select(Article.id, Article.title, Article.body_text).where(
            Article.id.in_(ids[start : start + 500])
        )
        for row in conn.execute(stmt):
            found[row.id] = comparable_text(row.title, row.body_text)
    return found


def refresh_duplicates(conn: sa.Connection, article_ids: Iterable[int]) -> None:
    """Re-index ``article_ids`` (new or changed content) and re-link their near-duplicates.

    Only these articles' texts are converted and hashed; candidates are scored with their
    stored signatures.
    """
    from storage.ingest import insert_ignoring_conflicts

    ids = sorted(set(article_ids))
    if not ids:
        return
    if conn.dialect.name == "postgresql":
        # Two ingests at once (two sources of one crawl, or two crawl processes) would each
        # look for candidates before the other's signatures are committed, and link neither.
        # One transaction at a time links; SQLite's write lock already gives that.
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LINKING_LOCK})
    import numpy as np  # with datasketch; only when articles are compared

    texts = _texts(conn, ids)
    bands, links = DedupBand.__table__, ArticleDuplicate.__table__
    signatures = DedupSignature.__table__
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        conn.execute(sa.delete(bands).where(bands.c.article_id.in_(chunk)))
        conn.execute(sa.delete(signatures).where(signatures.c.article_id.in_(chunk)))
        conn.execute(
            sa.delete(links).where(
                sa.or_(links.c.article_id.in_(chunk), links.c.duplicate_id.in_(chunk))
            )
        )
    for article_id in ids:
        text = texts.get(article_id, "")
        if len(text) < MIN_CHARS:
            continue
        values = signature(shingles(text))
        keys = band_keys(values)
        conn.execute(sa.insert(signatures), {"article_id": article_id, "signature": values})
        insert_ignoring_conflicts(
            conn, bands, [{"band_key": k, "article_id": article_id} for k in keys],
            ["band_key", "article_id"],
        )
        candidates = (
            sa.select(signatures.c.article_id, signatures.c.signature)
            .where(signatures.c.article_id.in_(
                sa.select(bands.c.article_id).where(
                    bands.c.band_key.in_(keys), bands.c.article_id != article_id
                )
            ))
        )
        found = []
        # Templated notices share many band keys: compare signatures as arrays, not in Python.
        mine = np.asarray(values, dtype=np.uint64)
        for other, other_values in conn.execute(candidates):
            theirs = np.asarray(other_values, dtype=np.uint64)
            score = float(np.count_nonzero(mine == theirs)) / len(values) if len(theirs) == len(
                values) else 0.0
            if score >= THRESHOLD:
                low, high = sorted((article_id, other))
                found.append({"article_id": low, "duplicate_id": high, "similarity": score})
        insert_ignoring_conflicts(conn, links, found, ["article_id", "duplicate_id"])


def duplicates_of(conn: sa.Connection, ids: list[int]) -> dict[int, list[int]]:
    """{article id: ids of its near-duplicates, ascending}."""
    links = ArticleDuplicate.__table__
    result: dict[int, list[int]] = {}
    if not ids:
        return result
    stmt = sa.select(links.c.article_id, links.c.duplicate_id).where(
        sa.or_(links.c.article_id.in_(ids), links.c.duplicate_id.in_(ids))
    )
    wanted = set(ids)
    for low, high in conn.execute(stmt):
        if low in wanted:
            result.setdefault(low, []).append(high)
        if high in wanted:
            result.setdefault(high, []).append(low)
    return {k: sorted(set(v)) for k, v in result.items()}
