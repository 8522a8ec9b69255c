"""Near-duplicate links between articles, kept in SQL: signatures, LSH band keys, scored pairs.

Linking mirrors must not need a search server, so the LSH index lives in the database: each
article's MinHash signature (:mod:`storage.signatures`) is cut into bands, and each band's hash
is a row of ``dedup_bands``. Articles sharing a band key are candidates; a candidate becomes a
duplicate only when the two signatures (``dedup_signatures``) agree in at least ``THRESHOLD``
of their values. Links never merge articles and never decide versions.

A pair is (re)examined whenever either article's content changes, using both articles' current
content, so the links depend only on the final content of each article and never on the order
in which articles were stored.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping

import sqlalchemy as sa

from govarchive.storage.models import Article, ArticleDuplicate, DedupBand, DedupSignature
from govarchive.storage.signatures import NUM_PERM, THRESHOLD, article_signature, band_keys
from govarchive.storage.sql import in_chunks, insert_ignoring_conflicts

# PostgreSQL advisory locks while an ingest links near-duplicates. Every ingest holds the
# linking lock shared and the locks of the band keys it touches; one touching more than
# MAX_BAND_LOCKS keys (a rebuild's big batch) holds the linking lock alone, exclusively, so
# the server's lock table never fills up.
_LINKING_LOCK = 0x676F7664656475  # "govdedup"
_BAND_LOCK_SPACE = 0x67766462  # "gvdb": the first key of a band lock (pg_advisory_xact_lock(a, b))
MAX_BAND_LOCKS = 512


def _stored_contents(conn: sa.Connection, ids: list[int]) -> dict[int, tuple[str | None, str]]:
    found: dict[int, tuple[str | None, str]] = {}
    for chunk in in_chunks(ids):
        stmt = sa.select(Article.id, Article.title, Article.body_text).where(
            Article.id.in_(chunk)
        )
        found.update((row.id, (row.title, row.body_text)) for row in conn.execute(stmt))
    return found


def refresh_duplicates(
    conn: sa.Connection,
    article_ids: Iterable[int],
    contents: Mapping[int, tuple[str | None, str | None]] | None = None,
    signatures: Mapping[int, list[int] | None] | None = None,
) -> None:
    """Re-index ``article_ids`` (new or changed content) and re-link their near-duplicates.

    ``contents`` gives their ``(title, body_text)`` as just written (ingest has them at hand);
    without it they are read back. ``signatures`` gives ``article_signature`` of some of them
    as their extractor already worked it out (None: too short). Only these articles' texts
    are converted and hashed; candidates are scored with their stored signatures.
    """
    ids = sorted(set(article_ids))
    if not ids:
        return
    signatures = signatures or {}
    unsigned = [i for i in ids if i not in signatures]
    if unsigned and (contents is None or not set(unsigned) <= contents.keys()):
        contents = _stored_contents(conn, unsigned)
    mine: dict[int, list[int]] = {}
    for article_id in ids:
        if article_id in signatures:
            values = signatures[article_id]
        else:
            values = article_signature(*contents.get(article_id, (None, None)))
        if values is not None:
            mine[article_id] = values
    if conn.dialect.name == "postgresql":
        _lock_bands(conn, ids, mine)
    bands, links = DedupBand.__table__, ArticleDuplicate.__table__
    stored = DedupSignature.__table__
    for chunk in in_chunks(ids):
        conn.execute(sa.delete(bands).where(bands.c.article_id.in_(chunk)))
        conn.execute(sa.delete(stored).where(stored.c.article_id.in_(chunk)))
        conn.execute(
            sa.delete(links).where(
                sa.or_(links.c.article_id.in_(chunk), links.c.duplicate_id.in_(chunk))
            )
        )
    if not mine:
        return
    conn.execute(sa.insert(stored),
                 [{"article_id": i, "signature": values} for i, values in mine.items()])
    insert_ignoring_conflicts(
        conn, bands,
        [{"band_key": k, "article_id": i} for i, values in mine.items() for k in band_keys(values)],
        ["band_key", "article_id"],
    )
    insert_ignoring_conflicts(conn, links, _scored_links(conn, mine),
                              ["article_id", "duplicate_id"])


def _band_lock_key(band_key: str) -> int:
    return int.from_bytes(hashlib.blake2b(band_key.encode(), digest_size=4).digest(), "big",
                          signed=True)


def _lock_bands(conn: sa.Connection, ids: list[int], mine: Mapping[int, list[int]]) -> None:
    """Two ingests at once (two sources of one crawl, two crawls, two machines) would each
    look for candidates before the other's signatures are committed, and link neither. Two
    articles can only be linked through a shared band key, so an ingest locks (until its
    transaction ends) the band keys it will write and those it will delete, in sorted order:
    ingests sharing a key run one after the other, with READ COMMITTED each then sees what
    the other committed; ingests of unrelated articles do not wait for each other."""
    bands = DedupBand.__table__
    keys = {key for values in mine.values() for key in band_keys(values)}
    for chunk in in_chunks(ids):
        keys.update(conn.execute(
            sa.select(bands.c.band_key).where(bands.c.article_id.in_(chunk))).scalars())
    lock_keys = sorted({_band_lock_key(key) for key in keys})
    if len(lock_keys) > MAX_BAND_LOCKS:
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LINKING_LOCK})
        return
    conn.execute(sa.text("SELECT pg_advisory_xact_lock_shared(:key)"), {"key": _LINKING_LOCK})
    lock = sa.text("SELECT pg_advisory_xact_lock(CAST(:space AS integer), CAST(:key AS integer))")
    for key in lock_keys:
        conn.execute(lock, {"space": _BAND_LOCK_SPACE, "key": key})


def _scored_links(conn: sa.Connection, mine: dict[int, list[int]]) -> list[dict]:
    """Links between these articles and every article sharing a band key with one of them
    (each other included) whose signatures agree in at least THRESHOLD of their values."""
    import numpy as np  # only when articles are compared

    bands, signatures = DedupBand.__table__, DedupSignature.__table__
    theirs = bands.alias("theirs")
    pairs: set[tuple[int, int]] = set()
    ids = sorted(mine)
    for chunk in in_chunks(ids):
        stmt = (
            sa.select(bands.c.article_id, theirs.c.article_id)
            .join(theirs, sa.and_(theirs.c.band_key == bands.c.band_key,
                                  theirs.c.article_id != bands.c.article_id))
            .where(bands.c.article_id.in_(chunk))
            .distinct()
        )
        pairs.update(tuple(sorted(pair)) for pair in conn.execute(stmt))
    known = dict(mine)
    others = sorted({i for pair in pairs for i in pair} - known.keys())
    for chunk in in_chunks(others):
        stmt = sa.select(signatures.c.article_id, signatures.c.signature).where(
            signatures.c.article_id.in_(chunk))
        known.update(conn.execute(stmt).all())
    # Templated notices share many band keys: all pairs are compared at once, as arrays.
    # A signature of another length (another NUM_PERM) never matches.
    pairs_list = sorted(p for p in pairs if len(known.get(p[0]) or ()) == len(
        known.get(p[1]) or ()) == NUM_PERM)
    if not pairs_list:
        return []
    row_of = {article_id: n for n, article_id in enumerate({i for p in pairs_list for i in p})}
    matrix = np.empty((len(row_of), NUM_PERM), dtype=np.uint64)
    for article_id, n in row_of.items():
        matrix[n] = known[article_id]
    pair_rows = np.array([(row_of[low], row_of[high]) for low, high in pairs_list])
    same = np.count_nonzero(matrix[pair_rows[:, 0]] == matrix[pair_rows[:, 1]], axis=1)
    found = []
    for (low, high), count in zip(pairs_list, same.tolist(), strict=True):
        score = count / NUM_PERM
        if score >= THRESHOLD:
            found.append({"article_id": low, "duplicate_id": high, "similarity": score})
    return found


def duplicates_of(conn: sa.Connection, ids: list[int]) -> dict[int, list[int]]:
    """{article id: ids of its near-duplicates, ascending}."""
    links = ArticleDuplicate.__table__
    result: dict[int, list[int]] = {}
    if not ids:
        return result
    wanted = set(ids)
    for chunk in in_chunks(wanted):
        stmt = sa.select(links.c.article_id, links.c.duplicate_id).where(
            sa.or_(links.c.article_id.in_(chunk), links.c.duplicate_id.in_(chunk))
        )
        for low, high in conn.execute(stmt):
            if low in wanted:
                result.setdefault(low, []).append(high)
            if high in wanted:
                result.setdefault(high, []).append(low)
    return {k: sorted(set(v)) for k, v in result.items()}
