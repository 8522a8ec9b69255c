"""storage: the schema and every query (SQLAlchemy 2 + Alembic, SQLite or PostgreSQL)."""

from govarchive.storage.deliveries import WatchFilter
from govarchive.storage.diffs import FIELD_LABELS, token_diff
from govarchive.storage.export import csv_lines, write_parquet
from govarchive.storage.models import CHANGE_KINDS
from govarchive.storage.runs import DIED, HEARTBEAT_INTERVAL, RunOwner
from govarchive.storage.search import MAX_LIMIT as SEARCH_PAGE_LIMIT
from govarchive.storage.search import SearchQueryError, validate_query
from govarchive.storage.signatures import article_signature, prepare_signatures
from govarchive.storage.store import Store
from govarchive.storage.tracking import ListingIn, ObservationIn, TrackingResult
from govarchive.storage.types import ArticleIn, CaptureIn, IngestResult, StorageError
from govarchive.storage.urls import canonical_url
from govarchive.storage.walks import SectionWalk

__all__ = [
    "CHANGE_KINDS",
    "DIED",
    "FIELD_LABELS",
    "HEARTBEAT_INTERVAL",
    "SEARCH_PAGE_LIMIT",
    "ArticleIn",
    "CaptureIn",
    "IngestResult",
    "ListingIn",
    "ObservationIn",
    "RunOwner",
    "SearchQueryError",
    "SectionWalk",
    "StorageError",
    "Store",
    "TrackingResult",
    "WatchFilter",
    "article_signature",
    "canonical_url",
    "csv_lines",
    "prepare_signatures",
    "token_diff",
    "validate_query",
    "write_parquet",
]
