"""Finding the gzip members of a ``.warc.gz`` file, and where the file stops being whole.

A record-per-member WARC file is sound only if it is a run of complete gzip members.
``warcio`` reads a member that was cut off at the end of the file as if the file simply
ended there, so completeness is checked here, member by member, with zlib's own end-of-stream
and CRC checks.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

CHUNK = 1 << 16


@dataclass(frozen=True)
class Member:
    offset: int
    length: int  # compressed bytes


@dataclass
class MemberScan:
    """The complete members of a file, and what (if anything) follows the last of them."""

    members: list[Member] = field(default_factory=list)
    size: int = 0
    end: int = 0  # where the last complete member ends
    error: str | None = None  # why the bytes after ``end`` are not a complete member

    @property
    def whole(self) -> bool:
        return self.error is None and self.end == self.size


def scan_members(stream: BinaryIO, *, keep_data: bool = False) -> Iterator[tuple[Member, bytes]]:
    """Yield each complete gzip member (with its decompressed bytes if ``keep_data``).

    Stops at the first member that is cut short or corrupt; :func:`scan_file` reports why.
    Raises :class:`IncompleteMember` for that member.
    """
    offset = 0
    pending = b""
    while True:
        if not pending:
            pending = stream.read(CHUNK)
            if not pending:
                return
        inflater = zlib.decompressobj(31)  # 16 + 15: gzip wrapper, largest window
        consumed = 0
        parts: list[bytes] = []
        while True:
            try:
                out = inflater.decompress(pending)
            except zlib.error as exc:
                raise IncompleteMember(offset, f"corrupt gzip data ({exc})") from None
            if keep_data:
                parts.append(out)
            if inflater.eof:
                used = len(pending) - len(inflater.unused_data)
                consumed += used
                pending = inflater.unused_data
                break
            consumed += len(pending)
            pending = stream.read(CHUNK)
            if not pending:
                raise IncompleteMember(
                    offset, f"the gzip member at {offset} is cut short after {consumed} bytes"
                )
        yield Member(offset, consumed), b"".join(parts)
        offset += consumed


class IncompleteMember(ValueError):
    def __init__(self, offset: int, reason: str) -> None:
        super().__init__(reason)
        self.offset = offset
        self.reason = reason


def scan_file(stream: BinaryIO) -> MemberScan:
    """Every complete member of ``stream`` (from its start) and the first fault, if any."""
    scan = MemberScan()
    try:
        for member, _ in scan_members(stream):
            scan.members.append(member)
            scan.end = member.offset + member.length
    except IncompleteMember as exc:
        scan.error = exc.reason
    stream.seek(0, 2)
    scan.size = stream.tell()
    return scan
