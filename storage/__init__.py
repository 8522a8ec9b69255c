"""storage: the schema and every query (SQLAlchemy 2 + Alembic, SQLite or PostgreSQL)."""

from storage.export import csv_lines, write_parquet
from storage.search import MAX_LIMIT as SEARCH_PAGE_LIMIT
from storage.search import SearchQueryError
from storage.store import Store
from storage.tracking import ListingIn, ObservationIn, TrackingResult
from storage.types import ArticleIn, CaptureIn, IngestResult, StorageError
from storage.urls import canonical_url

__all__ = [
    "SEARCH_PAGE_LIMIT",
    "ArticleIn",
    "CaptureIn",
    "IngestResult",
    "ListingIn",
    "ObservationIn",
    "SearchQueryError",
    "StorageError",
    "Store",
    "TrackingResult",
    "canonical_url",
    "csv_lines",
    "write_parquet",
]
