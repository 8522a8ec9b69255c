"""storage: the schema and every query (SQLAlchemy 2 + Alembic, SQLite or PostgreSQL)."""

from storage.store import Store
from storage.tracking import ListingIn, ObservationIn, TrackingResult
from storage.types import ArticleIn, CaptureIn, IngestResult, StorageError
from storage.urls import canonical_url

__all__ = [
    "ArticleIn",
    "CaptureIn",
    "IngestResult",
    "ListingIn",
    "ObservationIn",
    "StorageError",
    "Store",
    "TrackingResult",
    "canonical_url",
]
