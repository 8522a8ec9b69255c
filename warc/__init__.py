"""Writing and reading the WARC/1.1 archive (see docs/architecture.md)."""

from warc.check import ArchiveCheck, Fault, check_files
from warc.index import closed_files, index_file, index_missing, rebuild_indexes
from warc.reader import ArchivedRecord, RecordReadError, read_record
from warc.recover import RecoveryReport, recover_open_files
from warc.replay import NotArchivedError, find_capture, wayback_command
from warc.scan import archive_size
from warc.wacz import WaczError, page_for_record, write_wacz
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
    "NotArchivedError",
    "RecordLocation",
    "RecordReadError",
    "RecoveryReport",
    "WaczError",
    "WarcStreamWriter",
    "WarcWriteError",
    "WarcWriter",
    "archive_size",
    "check_files",
    "closed_files",
    "find_capture",
    "index_file",
    "index_missing",
    "page_for_record",
    "read_record",
    "rebuild_indexes",
    "recover_open_files",
    "wayback_command",
    "write_wacz",
]
