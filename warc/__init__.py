"""Writing and reading the WARC/1.1 archive (see docs/architecture.md)."""

from govarchive.warc.check import ArchiveCheck, Fault, check_files
from govarchive.warc.index import closed_files, index_file, index_missing, rebuild_indexes
from govarchive.warc.reader import ArchivedRecord, RecordReadError, read_record
from govarchive.warc.recover import RecoveryReport, recover_open_files
from govarchive.warc.replay import NotArchivedError, find_capture, wayback_command
from govarchive.warc.rotating import WarcWriter
from govarchive.warc.scan import CapturedRecord, FileEnd, archive_size, iter_captures
from govarchive.warc.wacz import WaczError, package_title, page_for_record, write_wacz
from govarchive.warc.writer import Exchange, RecordLocation, WarcStreamWriter, WarcWriteError

__all__ = [
    "ArchiveCheck",
    "ArchivedRecord",
    "CapturedRecord",
    "Exchange",
    "Fault",
    "FileEnd",
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
    "iter_captures",
    "package_title",
    "page_for_record",
    "read_record",
    "rebuild_indexes",
    "recover_open_files",
    "wayback_command",
    "write_wacz",
]
