"""Shared fixtures: a database on SQLite and (when configured) PostgreSQL, a migrated
``store`` on it, and the optional ../shared folder. Builders live in ``tests.builders``."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

from govarchive.storage import Store

SHARED = Path(__file__).resolve().parents[2] / "shared"


def _postgres_url() -> str | None:
    return os.environ.get("GOVARCHIVE_TEST_DATABASE_URL") or None


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request, tmp_path):
    """A fresh, empty database on each backend.

    PostgreSQL tests get a schema of their own (via ``search_path``), dropped afterwards,
    so tests never see each other's rows.
    """
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'govarchive.db'}"
        return
    base = _postgres_url()
    if not base:
        pytest.skip("GOVARCHIVE_TEST_DATABASE_URL is not set (PostgreSQL tests skipped)")
    import sqlalchemy as sa

    schema = f"t_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(base)
    with engine.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in base else "?"
    yield f"{base}{sep}options=-csearch_path%3D{schema}"
    with engine.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    engine.dispose()


@pytest.fixture
def store(database_url):
    """A migrated ``Store`` on ``database_url`` (each backend), closed afterwards."""
    with Store(database_url) as opened:
        opened.migrate()
        yield opened


@pytest.fixture
def shared_dir() -> Path:
    """../shared, read-only: pages and archives saved by other people. Every test that reads
    it goes through this fixture (and so carries the ``corpus`` marker) and skips without it."""
    if not SHARED.is_dir():
        pytest.skip(f"{SHARED} is absent (corpus tests are optional)")
    return SHARED


@pytest.fixture
def warc_samples(shared_dir) -> Path:
    """../shared/warc-samples: WARC files written by warcio's and pywb's own tests."""
    path = shared_dir / "warc-samples"
    if not path.is_dir():
        pytest.skip(f"{path} is absent (the archive samples are optional)")
    return path


def pytest_collection_modifyitems(items):
    for item in items:
        if "shared_dir" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.corpus)


pytest_plugins = ["tests.site.plugin"]
