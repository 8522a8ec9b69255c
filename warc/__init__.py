"""Writing and reading the WARC/1.1 archive (see docs/architecture.md)."""

from warc.reader import ArchivedRecord, RecordReadError, read_record
from warc.writer import (
    Exchange,
    RecordLocation,
    WarcStreamWriter,
    WarcWriteError,
    WarcWriter,
)

__all__ = [
    "ArchivedRecord",
    "Exchange",
    "RecordLocation",
    "RecordReadError",
    "WarcStreamWriter",
    "WarcWriteError",
    "WarcWriter",
    "read_record",
]
