"""One retrain at a time across retrainer processes: a Redis lock, renewed while it is held.

redis-py keeps a lock's token thread-local by default, so a renewal from a second thread
found no token, the lock expired mid-training and its release killed the retrainer. This lock
shares its token across threads (``thread_local=False``): one process owns it, its renewer
thread extends it. Whoever publishes first calls ``check()``, which proves in Redis that the
lock is still ours; a lock lost to expiry or to another holder raises LockLostError there.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import redis
from redis.exceptions import LockError, LockNotOwnedError

from retrainer.exceptions import LockLostError

log = logging.getLogger(__name__)
RENEWALS_PER_TTL = 3  # two renewals may fail (a Redis blip) before the lock can lapse


class RetrainLock:
    """A cross-thread Redis lock with a renewer thread; ``held()`` is the only way in."""

    def __init__(self, client: redis.Redis, name: str, ttl_s: float) -> None:
        self.name = name
        self.ttl_s = ttl_s
        self._lock = client.lock(name, timeout=ttl_s, thread_local=False)
        self._lost = threading.Event()
        self._renewed_at = 0.0

    @contextmanager
    def held(self, stop: threading.Event) -> Iterator[RetrainLock]:
        """Wait for the lock (Redis errors propagate), keep it renewed, release it after.

        Raises LockLostError at once if ``stop`` is set while another holder has it.
        """
        self._acquire(stop)
        done = threading.Event()
        renewer = threading.Thread(target=self._renew, args=(done,), name="retrainer-lock", daemon=True)
        renewer.start()
        try:
            yield self
        finally:
            done.set()
            renewer.join()
            self._release()

    def check(self) -> None:
        """Prove the lock is still ours (and extend it) before a step others would see."""
        if self._lost.is_set():
            raise LockLostError(f"lost the retrain lock {self.name}: a renewal came too late")
        try:
            self._lock.reacquire()
        except LockNotOwnedError as exc:
            self._lost.set()
            raise LockLostError(f"lost the retrain lock {self.name}: it expired or was taken") from exc
        self._renewed_at = time.monotonic()

    def _acquire(self, stop: threading.Event) -> None:
        self._lost.clear()
        while not self._lock.acquire(blocking=True, blocking_timeout=self.ttl_s):
            if stop.is_set():
                raise LockLostError(f"stopped while another retrainer held {self.name}")
            log.info("another retrainer holds %s; waiting for it", self.name)
        self._renewed_at = time.monotonic()

    def _renew(self, done: threading.Event) -> None:
        while not done.wait(self.ttl_s / RENEWALS_PER_TTL):
            try:
                self.check()
            except LockLostError as exc:
                log.error("%s; the retrain in progress will publish nothing", exc)
                return
            except redis.RedisError as exc:  # Redis unreachable: the lock may still hold, retry
                log.warning("could not renew the retrain lock (%s); retrying", exc)
                if time.monotonic() - self._renewed_at > self.ttl_s:
                    self._lost.set()

    def _release(self) -> None:
        try:
            self._lock.release()
        except LockNotOwnedError:
            log.warning("the retrain lock %s had already expired when released", self.name)
        except (LockError, redis.RedisError) as exc:  # it expires on its own after one TTL
            log.warning("could not release the retrain lock %s: %s", self.name, exc)
