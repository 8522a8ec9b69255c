"""Opening, migrating and refusing databases; datetimes in and out."""

from __future__ import annotations

import socket
import sqlite3
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from govarchive.storage import ArticleIn, CaptureIn, StorageError, Store

TABLES = {
    "alembic_version",
    "sources",
    "runs",
    "run_sources",
    "captures",
    "articles",
    "article_urls",
    "article_versions",
}


def _capture(record_id: str, fetched_at: datetime) -> CaptureIn:
    return CaptureIn(
        record_id,
        "https://www.gov.cn/a.htm",
        fetched_at,
        200,
        "text/html",
        "sha1:X",
        "a.warc.gz",
        0,
        10,
    )


def _article(record_id: str, fetched_at: datetime) -> ArticleIn:
    fields = {
        "title": "标题",
        "published_at": None,
        "section": [],
        "body_text": "正文",
        "attachments": [],
    }
    return ArticleIn("s", "https://www.gov.cn/a.htm", [], record_id, fetched_at, fields)


def test_migrate_twice_creates_every_table_in_the_urls_schema(database_url):
    with Store(database_url) as store:
        store.migrate()
        store.migrate()
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as conn:
            inspector = sa.inspect(conn)
            schema = None
            if conn.dialect.name == "postgresql":
                schema = conn.execute(sa.text("select current_schema()")).scalar_one()
                assert schema.startswith("t_")  # the test's own schema, not public
            assert TABLES <= set(inspector.get_table_names(schema=schema))
            assert conn.execute(sa.text("select count(*) from alembic_version")).scalar_one() == 1
    finally:
        engine.dispose()


def test_unmigrated_database_asks_for_init(database_url):
    with Store(database_url) as store:
        with pytest.raises(StorageError, match="govarchive init"):
            store.list_runs()
        with pytest.raises(StorageError, match="govarchive init"):
            list(store.iter_export())


def test_outdated_schema_revision_asks_for_init(tmp_path):
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    with Store(url) as store:
        store.migrate()
    with sqlite3.connect(tmp_path / "db.sqlite") as conn:
        conn.execute("update alembic_version set version_num = '0000'")
    with Store(url) as store, pytest.raises(StorageError, match="revision 0000.*govarchive init"):
        store.start_run(["s"])


def test_unreachable_postgresql_is_a_storage_error_without_the_password():
    pytest.importorskip("psycopg")
    with socket.socket() as sock:  # a port that was free a moment ago and has no listener
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"postgresql+psycopg://archiver:s3cret@127.0.0.1:{port}/govarchive?connect_timeout=5"
    with Store(url) as store:
        with pytest.raises(StorageError) as caught:
            store.migrate()
        with pytest.raises(StorageError):
            store.list_runs()
    message = str(caught.value)
    assert f"127.0.0.1:{port}/govarchive" in message
    assert "s3cret" not in message
    assert "[storage] url" in message


def test_sqlite_folder_that_cannot_be_created_is_a_storage_error(tmp_path):
    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(StorageError, match="cannot create the folder"):
        Store(f"sqlite:///{tmp_path / 'file' / 'sub' / 'db.sqlite'}")


def test_invalid_or_unsupported_url_is_a_storage_error():
    with pytest.raises(StorageError, match="invalid database URL"):
        Store("not a url")
    with pytest.raises(StorageError, match="unsupported database URL mysql://u:\\*\\*\\*@h/db"):
        Store("mysql://u:pw@h/db")


def test_sqlite_folder_is_created_and_connections_are_tuned(tmp_path):
    path = tmp_path / "data" / "deeper" / "govarchive.db"
    with Store(f"sqlite:///{path}") as store:
        store.migrate()
        with store._engine.connect() as conn:  # the pragmas are per connection
            pragma = lambda name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
            assert pragma("journal_mode") == "wal"
            assert pragma("foreign_keys") == 1
            assert pragma("busy_timeout") >= 1000
            assert pragma("synchronous") == 1  # NORMAL
    assert path.is_file()


def test_datetimes_come_back_aware_in_utc(database_url):
    beijing = timezone(timedelta(hours=8))
    fetched = datetime(2026, 3, 1, 16, 0, 0, 123456, tzinfo=beijing)
    with Store(database_url) as store:
        store.migrate()
        result = store.ingest(
            [_capture("<urn:uuid:1>", fetched)], [_article("<urn:uuid:1>", fetched)]
        )
        record = store.get_article(result.article_ids[0])
    assert record["first_seen"] == "2026-03-01T08:00:00.123456+00:00"
    assert datetime.fromisoformat(record["versions"][0]["captured_at"]) == fetched


def test_naive_datetimes_are_refused(database_url):
    naive = datetime(2026, 3, 1, 8, 0)
    with Store(database_url) as store:
        store.migrate()
        with pytest.raises(sa.exc.StatementError, match="naive datetime"):
            store.ingest([_capture("<urn:uuid:1>", naive)], [_article("<urn:uuid:1>", naive)])
        assert list(store.iter_export()) == []


def test_in_memory_sqlite_keeps_its_data_across_calls():
    with Store("sqlite://") as store:
        store.migrate()
        run_id = store.start_run(["s"])
        assert [r["id"] for r in store.list_runs()] == [run_id]


def test_sqlite_search_index_merges_segments_in_eights(tmp_path):
    # Fewer merges while a crawl indexes article after article (migration 0005).
    path = tmp_path / "govarchive.db"
    with Store(f"sqlite:///{path}") as store:
        store.migrate()
    with sqlite3.connect(path) as db:
        config = dict(db.execute("SELECT k, v FROM article_search_config").fetchall())
    assert config["automerge"] == 8
