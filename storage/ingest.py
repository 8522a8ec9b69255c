"""Writing a batch of captures, extracted articles and observations: one transaction, bulk
lookups. The rules for versions and statuses are in :mod:`storage.tracking`."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from govarchive.storage.changes import ChangeLog
from govarchive.storage.content import (
    STORED_FIELDS,
    VERSION_ONLY_FIELDS,
    attachments_list,
    collapse_whitespace,
    content_hash,
    normalised,
    published_iso,
    published_utc,
)
from govarchive.storage.diffs import edit_summary
from govarchive.storage.duplicates import refresh_duplicates
from govarchive.storage.models import (
    RECORD_TYPES,
    Article,
    ArticleEvent,
    ArticleUrl,
    ArticleVersion,
    Capture,
    Source,
    UrlAlias,
)
from govarchive.storage.search_index import index_rows
from govarchive.storage.sql import in_chunks, insert_ignoring_conflicts, lookup
from govarchive.storage.tracking import (
    STATE_COLUMNS,
    ArticleState,
    ListingIn,
    ObservationIn,
    TrackingResult,
    apply_listing,
    decide_version,
    load_states,
    mark_gone,
    mark_seen,
)
from govarchive.storage.types import ArticleIn, CaptureIn
from govarchive.storage.urls import canonical_url, canonical_urls

_ARTICLES = Article.__table__
_VERSIONS = ArticleVersion.__table__
# Identical content at a new URL joins the article that has it (a cross-post or a move) only
# when there is enough of it: two empty pages are not one article.
CROSS_POST_MIN_CHARS = 50



def ensure_sources(conn: sa.Connection, names: Iterable[str]) -> dict[str, int]:
    names = list(dict.fromkeys(names))
    ids = lookup(conn, Source.name, Source.id, names)
    # Insert only what is missing: on PostgreSQL even a conflicting insert waits for any
    # uncommitted insert of the same name, which would serialise concurrent ingests.
    missing = [{"name": n} for n in names if n not in ids]
    if missing:
        insert_ignoring_conflicts(conn, Source.__table__, missing, ["name"])
        ids.update(lookup(conn, Source.name, Source.id, [row["name"] for row in missing]))
    return ids


def _capture_row(capture: CaptureIn, run_id: int | None) -> dict[str, Any]:
    if capture.record_type not in RECORD_TYPES:
        raise ValueError(f"capture {capture.record_id}: record_type must be one of {RECORD_TYPES}")
    return {
        "record_id": capture.record_id,
        "url": capture.url,
        "fetched_at": capture.fetched_at,
        "status": capture.status,
        "content_type": capture.content_type,
        "payload_digest": capture.payload_digest,
        "warc_file": capture.warc_file,
        "warc_offset": capture.warc_offset,
        "warc_length": capture.warc_length,
        "record_type": capture.record_type,
        "etag": capture.etag,
        "last_modified": capture.last_modified,
        "run_id": run_id,
    }


def article_content(fields: dict[str, Any]) -> dict[str, Any]:
    """The stored content fields of an extracted article, as given (not normalised)."""
    content = {name: fields.get(name) for name in STORED_FIELDS}
    content["published_at"] = published_iso(fields.get("published_at"))
    content["section"] = list(fields.get("section") or [])
    content["body_text"] = fields.get("body_text") or ""
    content["attachments"] = attachments_list(fields.get("attachments"))
    return content


def _article_content_columns(content: dict[str, Any]) -> dict[str, Any]:
    return {**content, "published_utc": published_utc(content["published_at"])}


def _hash_owners(conn: sa.Connection, digests: Iterable[str]) -> dict[str, int]:
    """{content hash: oldest article with it} (for cross-posts)."""
    owners: dict[str, int] = {}
    for chunk in in_chunks(dict.fromkeys(digests)):
        stmt = (sa.select(Article.content_hash, sa.func.min(Article.id))
                .where(Article.content_hash.in_(chunk))
                .group_by(Article.content_hash))
        owners.update(conn.execute(stmt).all())
    return owners


class _Batch:
    """The writes of one ingest call, collected so they can go out as executemany."""

    def __init__(self, conn: sa.Connection, capture_ids: dict[str, int],
                 changes: ChangeLog) -> None:
        self.conn = conn
        self.capture_ids = capture_ids
        self.changes = changes
        self.result = TrackingResult()
        self.url_owner: dict[str, int] = {}
        self.hash_owner: dict[str, int] = {}
        self.states: dict[int, ArticleState] = {}
        self.new_urls: list[dict[str, Any]] = []
        self.versions: list[dict[str, Any]] = []
        self.content_updates: dict[int, dict[str, Any]] = {}
        self.events: list[dict[str, Any]] = []
        # {article id: (title, body_text)} of the articles whose content this batch wrote, as
        # written: near-duplicate linking and the search index need not read them back.
        self.changed_content: dict[int, tuple[str | None, str]] = {}
        # Their near-duplicate signatures, when the caller gave them (None: too short).
        self.signatures: dict[int, list[int] | None] = {}
        # Where each changed article now sits in the search index's order.
        self.changed_published: dict[int, Any] = {}
        self.touched: dict[int, None] = {}  # article ids in first-touched order

    # -- extracted articles

    def add(self, item: ArticleIn, source_id: int, content: dict[str, Any], digest: str) -> None:
        capture_id = self.capture_ids[item.capture_record_id]
        urls = canonical_urls([item.url, *item.urls])
        article_id = next((self.url_owner[u] for u in urls if u in self.url_owner), None)
        if article_id is None and len(collapse_whitespace(content["body_text"])) >= (
                CROSS_POST_MIN_CHARS):
            article_id = self.hash_owner.get(digest)
        moved = False
        if article_id is None:
            columns = _article_content_columns(content)
            article_id = self._create(item, content, columns, digest, source_id)
            self.hash_owner.setdefault(digest, article_id)
            self.result.new_articles += 1
            self._version(article_id, 1, [], None, item, content, digest, capture_id)
            self._content_changed(article_id, item, columns)
            self._change("new", article_id, item, capture_id, version_n=1)
        else:
            state = self.states[article_id]
            before, moved_from = state.content, state.fetch_url
            # Found by an earlier URL (a redirect) or by its content at a URL it never had:
            # it moved here.
            moved = urls[0] not in self.url_owner
            decision = decide_version(state, digest, content, capture_id)
            if decision.version:
                self._change("edited", article_id, item, capture_id, version_n=state.n,
                             changed=decision.changed, summary=edit_summary(
                                 normalised(before), normalised(content), decision.changed))
                self._version(article_id, state.n, decision.changed, decision.revert_of, item,
                              content, digest, capture_id)
                columns = _article_content_columns(content)
                self.content_updates[article_id] = {
                    **columns,
                    "content_hash": digest,
                    "last_changed": item.fetched_at,
                }
                self._content_changed(article_id, item, columns)
                self.result.new_versions += 1
            else:
                self.result.unchanged += 1
                self.result.pending += decision.pending
            state.state_changed = True
        state = self.states[article_id]
        if moved:
            self._change("moved", article_id, item, capture_id, detail=moved_from)
        if mark_seen(state, item.fetched_at, item.url, capture_id) == "restored":
            self.result.restored += 1
            self._event(article_id, "restored", item.fetched_at, capture_id, item.url)
            self._change("restored", article_id, item, capture_id)
        for url in urls:
            if url not in self.url_owner:
                self.url_owner[url] = article_id
                self.new_urls.append(
                    {"url": url, "article_id": article_id, "first_seen": item.fetched_at}
                )
        self.touched.setdefault(article_id)

    def _change(self, kind: str, article_id: int, item: ArticleIn, capture_id: int,
                **fields: Any) -> None:
        """A change event seen in the fetch of ``item`` (``storage.changes``)."""
        state = self.states[article_id]
        self.changes.add(kind, article_id=article_id, source_id=state.source_id,
                         at=item.fetched_at, url=item.url, title=state.content.get("title"),
                         capture_id=capture_id, **fields)

    def _content_changed(self, article_id: int, item: ArticleIn, columns: dict[str, Any]) -> None:
        """``columns``: the article's content columns as written (``_article_content_columns``)."""
        self.changed_content[article_id] = (columns["title"], columns["body_text"])
        self.changed_published[article_id] = columns["published_utc"]
        if item.signature is not None:
            self.signatures[article_id] = item.signature or None
        else:
            self.signatures.pop(article_id, None)  # an earlier fetch's, in this batch

    def _create(self, item: ArticleIn, content: dict[str, Any], columns: dict[str, Any],
                digest: str, source_id: int) -> int:
        row = {
            "source_id": source_id,
            "url": item.url,
            "status": "live",
            "first_seen": item.fetched_at,
            "last_seen": item.fetched_at,
            "last_changed": item.fetched_at,
            "last_checked_at": item.fetched_at,
            "fetch_url": item.url,
            "content_hash": digest,
            "section_url": item.section_url,
            **columns,
        }
        stmt = sa.insert(_ARTICLES).returning(_ARTICLES.c.id)
        article_id = self.conn.execute(stmt, row).scalar_one()
        self.states[article_id] = ArticleState(
            id=article_id, source_id=source_id, fetch_url=item.url, status="live", hash=digest, n=1, content=content,
            hashes={digest: 1}, last_seen=item.fetched_at, last_checked_at=item.fetched_at,
        )
        return article_id

    def _version(self, article_id: int, n: int, changed: list[str], revert_of: int | None,
                 item: ArticleIn, content: dict[str, Any], digest: str, capture_id: int) -> None:
        extra = {
            key: value
            for key, value in item.fields.items()
            if key not in STORED_FIELDS and key not in VERSION_ONLY_FIELDS and key != "url"
        }
        self.versions.append(
            {
                "article_id": article_id,
                "n": n,
                "capture_id": capture_id,
                "captured_at": item.fetched_at,
                "content_hash": digest,
                "changed": changed,
                **content,
                "body_html": item.fields.get("body_html") or "",
                "extra": extra,
                "revert_of": revert_of,
            }
        )

    # -- observations

    def observe(self, obs: ObservationIn) -> None:
        article_id = self.url_owner.get(canonical_url(obs.url))
        if article_id is None:
            return  # not an article we know: nothing to track
        state = self.states[article_id]
        capture_id = self.capture_ids.get(obs.capture_record_id) if obs.capture_record_id else None
        if obs.kind == "not_modified":
            if mark_seen(state, obs.fetched_at, None) == "restored":
                self.result.restored += 1
                self._event(article_id, "restored", obs.fetched_at, capture_id, obs.url)
                self._observed("restored", state, obs, capture_id)
        elif obs.kind == "blocked":
            self._event(article_id, "blocked", obs.fetched_at, capture_id, obs.url, obs.reason)
        elif canonical_url(obs.url) == canonical_url(state.fetch_url or ""):
            # Only the URL the article was last seen at: an old URL of a moved (or
            # cross-posted) article going away does not take the article with it.
            for kind in mark_gone(state, obs.fetched_at, obs.confirmations, obs.min_interval):
                self._event(article_id, kind, obs.fetched_at, capture_id, obs.url, obs.reason)
                if kind == "removed":
                    self.result.removed += 1
                    self._observed("removed", state, obs, capture_id, detail=obs.reason)
        self.touched.setdefault(article_id)

    def _observed(self, kind: str, state: ArticleState, obs: ObservationIn,
                  capture_id: int | None, detail: str | None = None) -> None:
        self.changes.add(kind, article_id=state.id, source_id=state.source_id,
                         at=obs.fetched_at, url=obs.url, title=state.content.get("title"),
                         capture_id=capture_id, detail=detail)

    def _event(self, article_id: int, kind: str, at, capture_id: int | None, url: str | None,
               detail: str | None = None) -> None:
        self.events.append({"article_id": article_id, "kind": kind, "at": at,
                            "capture_id": capture_id, "url": url, "detail": detail})
        self.result.events += 1

    def flush(self) -> None:
        conn = self.conn
        if self.new_urls:
            conn.execute(sa.insert(ArticleUrl.__table__), self.new_urls)
        if self.versions:
            conn.execute(sa.insert(_VERSIONS), self.versions)
        if self.events:
            conn.execute(sa.insert(ArticleEvent.__table__), self.events)
        # Row updates in id order, so two batches cannot deadlock on each other.
        for article_id in sorted(self.content_updates):
            values = self.content_updates[article_id]
            conn.execute(sa.update(_ARTICLES).where(_ARTICLES.c.id == article_id).values(**values))
        rows = [
            {"aid": state.id, **{f"v_{c}": getattr(state, c) for c in STATE_COLUMNS}}
            for _, state in sorted(self.states.items())
            if state.state_changed
        ]
        if rows:
            conn.execute(_STATE_UPDATE, rows)


_STATE_UPDATE = (
    sa.update(_ARTICLES)
    .where(_ARTICLES.c.id == sa.bindparam("aid"))
    .values(**{c: sa.bindparam(f"v_{c}", type_=_ARTICLES.c[c].type) for c in STATE_COLUMNS})
)


def _alias_rows(raw_urls: Iterable[str]) -> list[dict[str, str]]:
    rows = {}
    for url in raw_urls:
        canonical = canonical_url(url)
        if canonical != url:
            rows[url] = {"url": url, "canonical": canonical}
    return list(rows.values())


def _require_captures(conn: sa.Connection, record_ids: Iterable[str]) -> dict[str, int]:
    wanted = {r for r in record_ids if r}
    found = lookup(conn, Capture.record_id, Capture.id, wanted)
    missing = sorted(wanted - found.keys())
    if missing:
        raise ValueError(
            f"inputs refer to captures that are neither stored nor in this batch: {missing[:3]}"
        )
    return found


def ingest_batch(
    conn: sa.Connection,
    captures: list[CaptureIn],
    articles: list[ArticleIn],
    run_id: int | None,
    observations: Sequence[ObservationIn] = (),
    listings: Sequence[ListingIn] = (),
    history: datetime | None = None,
) -> TrackingResult:
    """Store one batch (see ``Store.ingest``). ``history``: the change events are history
    (a rebuild), fanned out at this time so no watch hears of them."""
    insert_ignoring_conflicts(
        conn, Capture.__table__, [_capture_row(c, run_id) for c in captures], ["record_id"]
    )
    capture_ids = _require_captures(
        conn,
        [a.capture_record_id for a in articles]
        + [o.capture_record_id for o in observations]
        + [r for listing in listings for r in listing.capture_record_ids],
    )
    source_ids = ensure_sources(
        conn, [a.source for a in articles] + [x.source for x in (*observations, *listings)]
    )
    raw_urls = [u for a in articles for u in (a.url, *a.urls)] + [o.url for o in observations]
    insert_ignoring_conflicts(conn, UrlAlias.__table__, _alias_rows(raw_urls), ["url"])
    changes = ChangeLog(run_id, history)
    batch = _Batch(conn, capture_ids, changes)
    batch.url_owner = lookup(conn, ArticleUrl.url, ArticleUrl.article_id,
                             canonical_urls(raw_urls))
    batch.states = load_states(conn, batch.url_owner.values())
    # Each article's content and hash, worked out once (hashing normalises the whole body).
    contents = [article_content(a.fields) for a in articles]
    digests = [content_hash(content) for content in contents]
    batch.hash_owner = _hash_owners(conn, digests)
    # Hash owners not matched by url need their state too (a cross-post joins them).
    batch.states.update(load_states(conn, set(batch.hash_owner.values()) - batch.states.keys()))
    # In fetch order, so a batch means the same whatever order its inputs were listed in.
    inputs: list[tuple[Any, int, int]] = [(a.fetched_at, 0, n) for n, a in enumerate(articles)]
    inputs += [(o.fetched_at, 1, n) for n, o in enumerate(observations)]
    for _at, kind, n in sorted(inputs, key=lambda entry: (entry[0], entry[1])):
        if kind == 0:
            item = articles[n]
            batch.add(item, source_ids[item.source], contents[n], digests[n])
        else:
            batch.observe(observations[n])
    batch.flush()
    changed = batch.changed_content
    refresh_duplicates(conn, changed, changed, batch.signatures)
    index_rows(conn, [(article_id, *changed[article_id], batch.changed_published[article_id])
                      for article_id in sorted(changed)])
    for listing in sorted(listings, key=lambda entry: entry.fetched_at):
        batch.result.events += apply_listing(conn, listing, source_ids[listing.source], changes)
    changes.write(conn)
    batch.result.article_ids = list(batch.touched)
    return batch.result
