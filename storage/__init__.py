"""storage: the schema and every query (SQLAlchemy 2 + Alembic, SQLite or PostgreSQL)."""

from storage.store import Store
from storage.types import ArticleIn, CaptureIn, IngestResult, StorageError

__all__ = ["ArticleIn", "CaptureIn", "IngestResult", "StorageError", "Store"]
