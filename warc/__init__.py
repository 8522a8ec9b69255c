"""Writing and reading the WARC/1.1 archive (see docs/architecture.md)."""

from warc.check import ArchiveCheck, Fault, check_files
from warc.index import index_file, rebuild_indexes
from warc.reader import ArchivedRecord, RecordReadError, read_record
from warc.recover import RecoveryReport, recover_open_files
from warc.writer import (
    Exchange,
    RecordLocation,
    WarcStreamWriter,
    WarcWriteError,
    WarcWriter,
)

__all__ = [
    "ArchiveCheck",
    "ArchivedRecord",
    "Exchange",
    "Fault",
    "RecordLocation",
    "RecordReadError",
    "RecoveryReport",
    "WarcStreamWriter",
    "WarcWriteError",
    "WarcWriter",
    "check_files",
    "index_file",
    "read_record",
    "rebuild_indexes",
    "recover_open_files",
]
