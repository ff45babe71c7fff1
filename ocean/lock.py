"""A file lock for runs that must not overlap (cron jobs writing the same output).

``run_lock(path, wait=0)`` takes an exclusive ``flock`` on ``path``. The
kernel releases it when the process exits, even on SIGKILL, so a crashed
run never leaves a stale lock behind. With ``wait > 0`` a second run waits
up to that many seconds, then gives up with :class:`ocean.errors.LockedError`
(exit code 4), naming the holder recorded in the lock file.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import logging
import os
import socket
import time
from pathlib import Path
from typing import Iterator

from ocean.errors import LockedError

__all__ = ["run_lock"]

log = logging.getLogger(__name__)


@contextlib.contextmanager
def run_lock(path: "str | os.PathLike", wait: float = 0.0, poll: float = 0.2) -> Iterator[Path]:
    """Hold an exclusive lock on ``path`` for the duration of the block."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + max(wait, 0.0)
        announced = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
                if time.monotonic() >= deadline:
                    holder = _read_holder(path)
                    raise LockedError(
                        f"another run holds the lock {path} ({holder}); "
                        + (f"waited {wait:g} s. " if wait else "")
                        + "Wait for it to finish, or pass --wait SECONDS to queue behind it"
                    ) from None
                if not announced:
                    log.info("waiting for the lock %s held by %s", path, _read_holder(path))
                    announced = True
                time.sleep(poll)
        os.ftruncate(fd, 0)
        os.write(fd, f"pid {os.getpid()} on {socket.gethostname()} since {time.strftime('%Y-%m-%dT%H:%M:%S')}\n".encode())
        yield path
    finally:
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _read_holder(path: Path) -> str:
    try:
        return path.read_text().strip() or "unknown holder"
    except OSError:
        return "unknown holder"
