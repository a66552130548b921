"""The monitor's windows and pending predictions kept across a restart, in Redis.

At a clean stop (SIGTERM: the last batch is committed) the monitor saves its feature and
error windows and the predictions and labels still waiting for each other; the next start
loads them and deletes the copy, so a later crash can never bring back a stale one. State
saved for another model version is dropped (a new model starts afresh anyway). After a crash
the monitor starts empty, and says so in its log with what that costs.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Protocol

from monitoring.monitor import DriftMonitor

log = logging.getLogger(__name__)
FORMAT = 1


class KeyValue(Protocol):
    """The part of a Redis client the saved state needs."""

    def get(self, name: str) -> bytes | str | None: ...
    def set(self, name: str, value: bytes) -> object: ...
    def delete(self, *names: str) -> object: ...


@dataclass
class SavedState:
    store: KeyValue
    key: str

    def save(self, monitor: DriftMonitor) -> None:
        features, errors, join = monitor.windows()
        body = {
            "format": FORMAT,
            "version": monitor.version,
            "features": features.dump(),
            "errors": errors.dump(),
            "join": join.dump(),
        }
        self.store.set(self.key, json.dumps(body).encode())
        log.warning("drift monitor saved its state for the next start: %s", _counts(monitor))

    def restore(self, monitor: DriftMonitor) -> bool:
        """Load the saved state into ``monitor`` (once); False when there is none to use."""
        raw = self.store.get(self.key)
        if raw is None:
            return False
        self.store.delete(self.key)
        features, errors, join = monitor.windows()
        try:
            body = json.loads(raw)
            if body.get("format") != FORMAT or body.get("version") != monitor.version:
                log.warning(
                    "drift monitor: saved state is for version %s, serving %s: starting empty",
                    body.get("version"),
                    monitor.version,
                )
                return False
            features.load(body["features"])
            errors.load(body["errors"])
            join.load(body["join"])
        except (ValueError, KeyError, TypeError) as exc:
            features.clear()
            errors.clear()
            join.load({"predictions": [], "labels": []})
            log.warning("drift monitor: saved state unreadable (%s): starting empty", exc)
            return False
        log.warning("drift monitor restored its state: %s", _counts(monitor))
        return True


def _counts(monitor: DriftMonitor) -> str:
    return ", ".join(f"{count} {what}" for what, count in monitor.held().items())
