"""A folder of rotating ``.warc.gz`` files, written through :class:`WarcStreamWriter`, where
a failed write never leaves half a record behind."""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path
from typing import BinaryIO, Self

from govarchive.warc import records
from govarchive.warc.index import RecordIndex
from govarchive.warc.writer import (
    Clock,
    Exchange,
    RecordIdFactory,
    WarcStreamWriter,
    WarcWriteError,
    default_software,
    new_record_id,
    utc_now,
)

log = logging.getLogger(__name__)


def node_label(node: str) -> str:
    """``node`` as it appears in a WARC file name: letters, digits, ``_`` and ``.`` only
    (``-`` separates the name's fields), at most 63 characters."""
    return re.sub(r"[^A-Za-z0-9_.]", "_", node)[:63] or "_"


class WarcWriter:
    """Rotating ``.warc.gz`` files in ``archive_dir`` (a pywb collection's ``archive/``).

    Files are named ``PREFIX-STAMP-SERIAL-NODE-PID.warc.gz`` (``-NODE`` only when ``node`` is
    given, as :func:`node_label`): machines sharing one archive folder never pick the same
    name, and each recovers only its own left-over files (:func:`warc.recover_open_files`).
    A file is written as ``NAME.warc.gz.open`` and renamed to ``NAME.warc.gz`` when closed,
    so readers and indexers can tell finished files from the one being written. A new file is
    started once the current one has reached ``max_file_size`` (checked after each exchange, so
    an exchange is never split across files). Nothing is created until the first exchange.

    With ``index=True`` each file's CDXJ index (:class:`warc.index.RecordIndex`) is made as
    its records are written and saved when the file is closed; the names of the files so
    indexed are in ``indexed``. A file cut back after a failed write is not: its index is
    left to :func:`warc.index.index_file`.
    """

    def __init__(
        self,
        archive_dir: Path | str,
        *,
        prefix: str = "govarchive",
        max_file_size: int = 1 << 30,
        software: str | None = None,
        operator: str | None = None,
        clock: Clock = utc_now,
        record_id_factory: RecordIdFactory = new_record_id,
        hostname: str | None = None,
        buffer_size: int = 1 << 20,
        index: bool = False,
        node: str | None = None,
    ) -> None:
        self.archive_dir = Path(archive_dir)
        self.prefix = prefix
        self.max_file_size = max_file_size
        self.software = software or default_software()
        self.operator = operator
        self.clock = clock
        self.record_id_factory = record_id_factory
        self.hostname = hostname
        self.buffer_size = buffer_size
        self.files: list[str] = []  # names of the files this writer has closed
        self.index = index
        self.node = node
        self.indexed: set[str] = set()  # those of them whose index it saved
        self._serial = 0
        self._file: BinaryIO | None = None
        self._records: WarcStreamWriter | None = None
        self._name = ""
        # Exchange ends not yet known to be on disk; a failed write cuts back to one of them.
        self._flushed_to = 0
        self._exchange_ends: list[int] = []

    @property
    def current_file(self) -> str | None:
        """Final name of the file being written (it is ``+ ".open"`` on disk until closed)."""
        return self._name if self._file is not None else None

    def _open(self) -> WarcStreamWriter:
        self.archive_dir.mkdir(parents=True, exist_ok=True)
        stamp = records.as_utc(self.clock()).strftime("%Y%m%d%H%M%S%f")
        while True:
            self._serial += 1
            node = f"-{node_label(self.node)}" if self.node else ""
            self._name = f"{self.prefix}-{stamp}-{self._serial:05d}{node}-{os.getpid()}.warc.gz"
            if (self.archive_dir / self._name).exists():
                continue
            try:
                # "xb": two writers in one process (same prefix, same microsecond) must never
                # share a file; the loser takes the next serial number.
                self._file = open(self._open_path(), "xb", buffering=self.buffer_size)  # noqa: SIM115
            except FileExistsError:
                continue
            break
        self._flushed_to = 0
        self._exchange_ends = [0]
        self._records = WarcStreamWriter(
            self._file,
            file_name=self._name,
            software=self.software,
            operator=self.operator,
            hostname=self.hostname,
            clock=self.clock,
            record_id_factory=self.record_id_factory,
        )
        if self.index:
            self._records.index = RecordIndex(self._name)
        return self._records

    def _open_path(self) -> Path:
        return self.archive_dir / f"{self._name}.open"

    def write_exchange(self, **exchange) -> Exchange:
        """Write one exchange (arguments as :meth:`WarcStreamWriter.write_exchange`).

        Raises :class:`WarcWriteError` if the disk refuses the bytes; the file has then been cut
        back to its last complete exchange and closed, and the next call starts a new file.
        """
        return self._write_with(lambda writer: writer.write_exchange(**exchange))

    def write_revisit(self, **kwargs) -> Exchange:
        """Write one revisit (see :meth:`WarcStreamWriter.write_revisit`); failures as for
        :meth:`write_exchange`."""
        return self._write_with(lambda writer: writer.write_revisit(**kwargs))

    def _write_with(self, write) -> Exchange:
        writer = self._records
        if writer is None:
            try:
                writer = self._open()
            except OSError as exc:
                self._file = self._records = None
                raise WarcWriteError(
                    f"cannot start a WARC file in {self.archive_dir}: {exc}"
                ) from exc
        try:
            result = write(writer)
        except OSError as exc:
            self._recover()
            raise WarcWriteError(
                f"writing {self._name} failed ({exc}); the file was cut back "
                "to its last complete record"
            ) from exc
        self._exchange_ends.append(writer.offset)
        if writer.offset >= self.max_file_size:
            self.close()
        return result

    def flush(self, fsync: bool = True) -> None:
        """Push buffered records to the OS (and with ``fsync`` to the disk)."""
        if self._file is None:
            return
        try:
            self._file.flush()
            if fsync:
                os.fsync(self._file.fileno())
        except OSError as exc:
            self._recover()
            raise WarcWriteError(
                f"flushing {self._name} failed ({exc}); the file was cut back "
                "to its last complete record"
            ) from exc
        self._flushed_to = self._exchange_ends[-1]
        self._exchange_ends = [self._flushed_to]

    def _recover(self) -> None:
        """Cut the open file back to its last complete exchange that reached the disk, then
        close it (renamed, or removed if nothing complete is left)."""
        path = self._open_path()
        file, self._file, self._records = self._file, None, None
        try:
            file.close()  # flushes what it can; the cut below removes any partial tail
        except OSError:
            pass
        size = path.stat().st_size
        keep = max((end for end in self._exchange_ends if end <= size), default=0)
        os.truncate(path, keep)
        if keep == 0:
            path.unlink()
        else:
            self._finish(path)

    def _finish(self, path: Path) -> None:
        path.rename(self.archive_dir / self._name)
        self.files.append(self._name)

    def close(self) -> None:
        """Flush, fsync and close the current file, renaming ``.open`` away. Idempotent."""
        if self._file is None:
            return
        self.flush(fsync=True)
        file, records, self._file, self._records = self._file, self._records, None, None
        file.close()
        self._finish(self._open_path())
        if records.index is not None:
            try:
                records.index.save(self.archive_dir)
            except OSError as exc:  # the file itself is whole: it can be indexed later
                log.error("could not save the index of %s: %s", self._name, exc)
            else:
                self.indexed.add(self._name)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()
