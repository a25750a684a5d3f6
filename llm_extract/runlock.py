"""One run per results file: an exclusive OS lock on `<out>.lock` for the whole run.

Two runs appending to one results file would each do every article (and pay for
every call twice), and a later resume could not tell which line to trust. The
lock is `flock(2)`: the kernel drops it when its process ends, however it ends,
so a killed run never leaves a lock that blocks the next one. The pid written
into the file only names the holder in the message.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path

from llm_extract.errors import ConfigError

__all__ = ["OutputLock", "OutputLocked", "lock_path"]


class OutputLocked(ConfigError):
    """Another process holds the lock on this results file."""

    def __init__(self, path: Path, pid: str) -> None:
        super().__init__(
            f"{path} is being written by another llm-extract run (pid {pid}); wait for it "
            "or use another --results (--wait-for-lock queues behind it)"
        )
        self.pid = pid


def lock_path(path: Path) -> Path:
    return path.with_name(f"{path.name}.lock")


class OutputLock:
    """A held lock on one results file; `release()` (or the process ending) drops it."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self._fd: int | None = fd

    @classmethod
    def acquire(cls, path: Path) -> OutputLock:
        """The lock, or `OutputLocked` at once if another run holds it."""
        where = lock_path(path)
        while True:
            fd = os.open(where, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                pid = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
                os.close(fd)
                raise OutputLocked(path, pid) from None
            try:  # the run we queued behind may have removed the file we locked
                current = os.stat(where).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                current = False
            if current:
                break
            os.close(fd)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
        return cls(path, fd)

    def release(self) -> None:
        """Remove the lock file, then drop the lock (in this order: a run that opened the
        file meanwhile sees it removed and opens a new one)."""
        if self._fd is None:
            return
        with contextlib.suppress(FileNotFoundError):
            os.unlink(lock_path(self.path))
        os.close(self._fd)
        self._fd = None
