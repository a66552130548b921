"""Handle one trigger under the retrain lock until it is done, outlasting Redis and MLflow outages.

A Redis error (waiting for the lock, the cool-down, the model cache), an MLflow registry that
does not answer (a locked SQLite file, a tracking server away) or a lock lost mid-way is not
the event's fault: the attempt publishes nothing more, waits with a growing backoff and
starts over (else the consume loop would dead-letter the trigger as one that cannot be
applied). The handler's registry checks make a retry finish what an attempt began.
"""

from __future__ import annotations

import logging
import threading
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Protocol

import redis

from modelstore.exceptions import RegistryUnavailable
from modelstore.mlflow_registry import registry_errors
from retrainer.exceptions import LockLostError
from retrainer.handler import DriftHandler, Outcome
from retrainer.trigger import Trigger

log = logging.getLogger(__name__)
RETRIED = (redis.ConnectionError, redis.TimeoutError, RegistryUnavailable, LockLostError)


@dataclass(frozen=True)
class Backoff:
    first_s: float = 0.5
    max_s: float = 15.0

    def delays(self) -> list[float]:
        """Doubling waits up to max_s; the last one repeats."""
        out = [self.first_s]
        while out[-1] < self.max_s:
            out.append(min(out[-1] * 2, self.max_s))
        return out


class Holdable(Protocol):
    """A lock taken for one block (retrainer.lock.RetrainLock in production)."""

    def held(self, stop: threading.Event) -> AbstractContextManager[object]: ...


@dataclass
class LockedHandler:
    """The handler behind the lock, retried until an outcome or until ``stop`` is set."""

    handler: DriftHandler
    lock: Holdable
    stop: threading.Event
    backoff: Backoff = Backoff()

    def handle(self, trigger: Trigger) -> Outcome | None:
        """The outcome, or None when stopped first (the event stays uncommitted)."""
        delays = self.backoff.delays()
        attempt = 0
        while not self.stop.is_set():
            try:
                with self.lock.held(self.stop), registry_errors():
                    return self.handler.handle(trigger)
            except RETRIED as exc:
                wait = delays[min(attempt, len(delays) - 1)]
                attempt += 1
                log.warning(
                    "trigger %s not handled yet (attempt %d, %s: %s); retrying in %.1fs",
                    trigger.event_id,
                    attempt,
                    type(exc).__name__,
                    exc,
                    wait,
                )
                self.stop.wait(wait)
        return None
