"""Locks for runs that must not overlap (cron jobs writing the same output).

``run_lock(path, wait=0)`` takes an exclusive ``flock`` on the file
``path``; ``store_lock(store)`` is the lock of a store (a cube, a forecast):
the hidden file ``.STORE.lock`` beside the store's *real* location
(``Path.resolve()``), so every spelling of the store -- relative, absolute,
through a symlink to it or to a folder above it -- takes the same lock.
Under the lock a store's writer first removes what a killed writer of the
same store left (:func:`ocean.store.clean_debris`).

The kernel releases an ``flock`` when its process exits, even on SIGKILL,
so a crashed run never blocks the next one. With ``wait > 0`` a second run
waits up to that many seconds, then gives up with
:class:`ocean.errors.LockedError` (exit code 4), naming the holder recorded
in the lock file.

No lock file stays behind after a run. The holder unlinks the file while it
still holds the lock, and a run that acquires a lock checks afterwards that
the file it locked is still the one at ``path`` (same device and inode); if
it was unlinked (and perhaps re-created) meanwhile, it retries on the new
file. So two runs can never both believe they hold the same lock. A file
left by a killed run is an unlocked file with a dead holder recorded in it:
the next run takes it over and removes it when done.
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

from ocean.errors import DataError, LockedError

__all__ = ["run_lock", "store_lock", "lock_file_of", "remove_stale_locks"]

log = logging.getLogger(__name__)


def lock_file_of(store: "str | os.PathLike") -> Path:
    """The lock file of a store: ``.STORE.lock`` beside the store's real (resolved) path."""
    real = Path(store).expanduser().resolve()
    return real.with_name(f".{real.name}.lock")


@contextlib.contextmanager
def store_lock(store: "str | os.PathLike", wait: float = 0.0) -> Iterator[Path]:
    """Hold the lock of ``store`` (see the module docstring); yields the store's resolved path.

    Once the lock is held, debris of killed writers of this store
    (``.STORE.tmp-*``, a ``.STORE.old`` left mid-publication) is removed.
    """
    from ocean.store import clean_debris

    real = Path(store).expanduser().resolve()
    with run_lock(lock_file_of(real), wait=wait):
        clean_debris(real)
        yield real


@contextlib.contextmanager
def run_lock(path: "str | os.PathLike", wait: float = 0.0, poll: float = 0.2) -> Iterator[Path]:
    """Hold an exclusive lock on the file ``path`` (its folder resolved) for the duration of the block."""
    path = Path(path).expanduser()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _unwritable(path, exc) from exc
    path = path.parent.resolve() / path.name
    fd = _acquire(path, wait, poll)
    try:
        os.ftruncate(fd, 0)
        os.write(fd, f"pid {os.getpid()} on {socket.gethostname()} since "
                     f"{time.strftime('%Y-%m-%dT%H:%M:%S')}\n".encode())
        yield path
    finally:
        with contextlib.suppress(OSError):
            if _same_file(fd, path):
                os.unlink(path)  # still holding it: a waiter that opened this file will see it is gone
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` (on this machine) is running; this process counts as alive."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def remove_stale_locks(folder: "str | os.PathLike", pattern: str = ".*.lock") -> list[Path]:
    """Remove lock files in ``folder`` that no process holds (left by killed runs); returns them.

    Each is taken the way a run takes it (so a live holder is never
    disturbed: its lock is skipped) and released, which unlinks it.
    """
    removed = []
    for path in sorted(Path(folder).glob(pattern)):
        try:
            with run_lock(path):
                pass
        except (LockedError, DataError):
            continue
        removed.append(path)
    if removed:
        log.info("removed %d stale lock file(s) of killed runs: %s", len(removed), ", ".join(p.name for p in removed))
    return removed


def _acquire(path: Path, wait: float, poll: float) -> int:
    """An fd of ``path`` holding its flock, where ``path`` still names that very file."""
    deadline = time.monotonic() + max(wait, 0.0)
    announced = False
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise _unwritable(path, exc) from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            if exc.errno not in (errno.EAGAIN, errno.EACCES):
                raise
            if time.monotonic() >= deadline:
                raise LockedError(
                    f"another run holds the lock {path} ({_read_holder(path)}); "
                    + (f"waited {wait:g} s. " if wait else "")
                    + "Wait for it to finish, or pass --wait SECONDS to queue behind it"
                ) from None
            if not announced:
                log.info("waiting for the lock %s held by %s", path, _read_holder(path))
                announced = True
            time.sleep(poll)
            continue
        if _same_file(fd, path):
            return fd
        os.close(fd)  # the holder unlinked it between our open and our flock: lock the current file


def _same_file(fd: int, path: Path) -> bool:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return False
    own = os.fstat(fd)
    return (own.st_dev, own.st_ino) == (st.st_dev, st.st_ino)


def _unwritable(path: Path, exc: OSError) -> DataError:
    return DataError(f"cannot create the lock file ({exc.strerror or exc})", file=path,
                     found=f"folder {path.parent} not writable" if exc.errno in (errno.EACCES, errno.EROFS, errno.EPERM)
                     else None, expected="a writable folder (the lock lives beside the output)",
                     hint="Run as a user who may write there, or choose another output location")


def _read_holder(path: Path) -> str:
    try:
        return path.read_text().strip() or "unknown holder"
    except OSError:
        return "unknown holder"
