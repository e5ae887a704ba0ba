"""One writer at a time per embedded store.

Two processes writing to one persistent Chroma directory at once corrupt it for good (each keeps its own
copy of the vector index and overwrites the other's files): searches start failing with "Error getting
embedding" and deletes fail. Every write (ingest, delete, web upload) therefore holds an exclusive lock
file inside the store directory; a second writer waits, saying so. Readers need no lock.

A Chroma server (`MEETING_QA_CHROMA_URL`) is one process that orders writes itself, so there the lock is
only held between the threads of this process.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from meeting_qa.errors import StoreError

LOCK_NAME = "meeting-qa-write.lock"
DEFAULT_WAIT_S = 30 * 60.0  # long enough for a large ingest by another process to finish

log = logging.getLogger("meeting_qa")


def _warn(message: str) -> None:
    log.warning(message)


class StoreLock:
    """An exclusive write lock for one store (`directory` None: a server or in-memory store)."""

    def __init__(
        self,
        directory: Path | None,
        *,
        remote: bool = False,
        wait_s: float = DEFAULT_WAIT_S,
        on_wait: Callable[[str], None] = _warn,
    ) -> None:
        self.directory = directory
        self.remote = remote  # a server store: other processes' writes cannot be seen from here
        self._held = 0
        self.wait_s = wait_s
        self.on_wait = on_wait
        self._threads = threading.RLock()
        # One FileLock per thread: a FileLock object shared between threads would count a second thread's
        # acquire as re-entry instead of making it wait.
        self._local = threading.local()

    def _file_lock(self) -> FileLock | None:
        if self.directory is None:
            return None
        lock: FileLock | None = getattr(self._local, "lock", None)
        if lock is None:
            self.directory.mkdir(parents=True, exist_ok=True)
            lock = FileLock(str(self.directory / LOCK_NAME), thread_local=False)
            self._local.lock = lock
        return lock

    @contextmanager
    def hold(self) -> Iterator[None]:
        """Hold the lock for one write, waiting (and saying so once) while another writer has it."""
        started = time.monotonic()
        if not self._threads.acquire(blocking=False):
            self.on_wait(f"store {self.directory or '(server)'} is busy (another write is in progress), waiting…")
            if not self._threads.acquire(timeout=self.wait_s):
                raise self._busy()
        self._held += 1
        try:
            lock = self._file_lock()
            if lock is None:
                yield
                return
            try:
                lock.acquire(timeout=0)
            except Timeout:
                self.on_wait(f"store {self.directory} is busy (another meeting-qa process is writing), waiting…")
                try:
                    lock.acquire(timeout=max(0.0, self.wait_s - (time.monotonic() - started)))
                except Timeout:
                    raise self._busy() from None
            except OSError as e:
                raise StoreError(f"cannot lock the store at {self.directory}: {e}", value=str(self.directory)) from e
            try:
                yield
            finally:
                lock.release()
        finally:
            self._held -= 1
            self._threads.release()

    def writer_alive(self) -> bool:
        """Whether some writer holds the lock right now (always True for a server store: it cannot be known
        there, and assuming a writer only costs rebuilding derived indexes until the next write)."""
        if self.remote or self._held:
            return True
        if not self._threads.acquire(blocking=False):
            return True
        try:
            lock = self._file_lock()
            if lock is None:
                return False
            try:
                lock.acquire(timeout=0)
            except Timeout:
                return True
            except OSError:
                return True  # cannot tell: assume a writer, which only costs a rebuild
            lock.release()
            return False
        finally:
            self._threads.release()

    def _busy(self) -> StoreError:
        return StoreError(
            f"store {self.directory} is still busy after {self.wait_s:.0f} s: another meeting-qa process is "
            f"writing to it; try again when it has finished",
            value=str(self.directory),
        )
