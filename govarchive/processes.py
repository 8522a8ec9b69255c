"""Is a process still there? The liveness probe for runs (``Store.close_dead_runs``), and
the file lock that processes on one machine take (the scheduler's, a source's crawl).

A leaf module (it imports nothing of ours): the crawl, ``runs``, the web UI and the service
all ask it. A process is named by its pid *and* its start time, because pids are reused: a
pid that is alive but started at another time is another program.
"""

from __future__ import annotations

import ctypes
import fcntl
import os
import signal
import socket
import sys
from datetime import UTC, datetime
from pathlib import Path

# /proc gives start times in clock ticks after a boot time in whole seconds, and the boot time
# shifts with clock adjustments: two readings of one process may differ by about a second.
START_TIME_TOLERANCE = 2.0


PR_SET_PDEATHSIG = 1  # linux/prctl.h

try:
    _libc = ctypes.CDLL(None, use_errno=True) if sys.platform == "linux" else None
except OSError:  # pragma: no cover - a libc without symbols exported to ctypes
    _libc = None


def die_with_parent(signum: int = signal.SIGKILL, parent: int | None = None) -> None:
    """Ask the kernel to send this process ``signum`` when its parent dies (Linux), so no
    worker outlives the process that started it, whatever killed that one. Called first in
    a child; a parent that died before (``parent``, its pid, when the child knows it: a
    child that ran some code first may already have been adopted) or while it is being set is
    caught by the ``getppid`` check."""
    if _libc is None:
        return
    parent = os.getppid() if parent is None else parent
    _libc.prctl(PR_SET_PDEATHSIG, signum)
    if os.getppid() != parent:
        os.kill(os.getpid(), signum)


NODE_ENV = "GOVARCHIVE_NODE"


def this_node() -> str:
    """The name runs record as their ``node`` and WARC file names carry: ``$GOVARCHIVE_NODE``
    (``govarchive worker --node`` sets it for itself and its crawls), else the host name."""
    return os.environ.get(NODE_ENV) or socket.gethostname()


def _boot_time() -> float | None:
    try:
        with open("/proc/stat", encoding="ascii") as stat:
            for line in stat:
                if line.startswith("btime "):
                    return float(line.split()[1])
    except OSError:
        pass
    return None


def _proc_stat(pid: int) -> list[str] | None:
    """Fields 3 onwards of /proc/PID/stat (state first), or None."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
            text = stat.read()
    except OSError:
        return None
    # The command name (field 2) is in parentheses and may hold spaces: split after it.
    return text[text.rfind(")") + 2:].split()


def process_started_at(pid: int) -> datetime | None:
    """When process ``pid`` started, from /proc (None where there is no /proc, or no such
    process)."""
    fields = _proc_stat(pid)
    boot = _boot_time()
    if fields is None or boot is None:
        return None
    ticks = int(fields[19])  # field 22, starttime
    return datetime.fromtimestamp(boot + ticks / os.sysconf("SC_CLK_TCK"), UTC)


def _pid_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: it exists
    return True


def process_alive(pid: int, started_at: datetime | None) -> bool:
    """Whether the process ``pid`` that started at ``started_at`` is still running on this
    host. A pid alive with another start time was reused by another program: not alive."""
    if pid <= 0 or not _pid_exists(pid):
        return False
    fields = _proc_stat(pid)
    if fields is not None and fields[0] in ("Z", "X"):
        return False  # killed, not yet reaped by its parent
    if started_at is None:
        return True  # nothing to compare with: trust the pid
    actual = process_started_at(pid)
    if actual is None:
        return True  # no /proc: the pid is all there is to go on
    return abs((actual - started_at).total_seconds()) <= START_TIME_TOLERANCE


class FileLock:
    """An exclusive ``flock`` on a file; the holder's pid is written into it for people."""

    def __init__(self, path: Path):
        self.path = path
        self.description = f"the lock file {path}"
        self._fd: int | None = None

    def try_acquire(self) -> bool:
        if self._fd is not None:
            return True
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return True

    def still_held(self) -> bool:
        return self._fd is not None  # nothing but our own release can take a flock away

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)  # closing the only descriptor releases the flock
