"""One truth about the serving model: the registry's champion against what the workers serve.

A watcher thread compares, every ``api_serving_check_s``, the champion (MLflow alias), the
Redis ``current`` pointer and the workers' heartbeats. /readyz, /v1/models/current and
/metrics read its last view and never wait on MLflow. A disagreement that outlasts
``api_model_disagreement_grace_s`` (a swap takes seconds) is logged once, shown on
/metrics as ``mlops_fc_model_disagreement`` and in both responses.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from consumers.worker_beats import WorkerBeat

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServingView:
    """What was seen at ``checked_at`` (None: never checked yet)."""

    checked_at: float | None = None
    champion: str | None = None
    redis_current: str | None = None
    workers: tuple[WorkerBeat, ...] = ()
    workers_reporting: bool = False  # any heartbeat of this deployment ever read
    disagreement: bool = False  # champion and workers differ, for longer than the grace
    error: str | None = None

    @property
    def versions(self) -> list[str]:
        return sorted({w.model_version for w in self.workers if w.model_version is not None})

    @property
    def serves_model(self) -> bool:
        """Some worker serves a model (before any worker heartbeat: the Redis pointer says)."""
        if not self.workers_reporting:
            return self.redis_current is not None
        return bool(self.versions)

    def to_json(self) -> dict[str, Any]:
        return {
            "champion": self.champion,
            "redis_current": self.redis_current,
            "workers": None
            if not self.workers_reporting
            else [w.model_dump(mode="json") for w in self.workers],
            "serving_versions": self.versions,
            "disagreement": self.disagreement,
            "checked_at": self.checked_at,
            "error": self.error,
        }


class Heartbeats(Protocol):
    """consumers.worker_beats.WorkerBeats, or a fake."""

    seen_any: bool

    def read(self) -> list[WorkerBeat]: ...


def differ(champion: str | None, workers: tuple[WorkerBeat, ...]) -> bool:
    """Some live worker serves another version than the champion (or none while one exists)."""
    return any(w.model_version != champion for w in workers)


@dataclass
class ServingWatch:
    champion: Callable[[], str | None]
    pointer: Callable[[], str | None]
    beats: Heartbeats
    every_s: float
    grace_s: float
    clock: Callable[[], float] = time.monotonic
    view: ServingView = field(default_factory=ServingView)
    _differs_since: float | None = None
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="serving-watch", daemon=True)
        self._thread.start()

    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.check_once()
            self._stop.wait(self.every_s)

    def check_once(self) -> ServingView:
        try:
            workers = tuple(self.beats.read())
            pointer = self.pointer()
            champion = self.champion()
        except Exception as exc:  # noqa: BLE001 - Redis or MLflow down: say so, check again later
            if self.view.error is None:
                log.warning("cannot compare the champion with the workers: %s", exc)
            self.view = ServingView(
                time.time(), self.view.champion, self.view.redis_current, self.view.workers,
                self.beats.seen_any, self.view.disagreement, str(exc),
            )  # fmt: skip
            return self.view
        self.view = ServingView(
            time.time(), champion, pointer, workers, self.beats.seen_any, self._judge(champion, workers)
        )
        return self.view

    def _judge(self, champion: str | None, workers: tuple[WorkerBeat, ...]) -> bool:
        now = self.clock()
        if not differ(champion, workers):
            if self.view.disagreement:
                log.info("the workers serve the champion (version %s) again", champion)
            self._differs_since = None
            return False
        if self._differs_since is None:
            self._differs_since = now
        reported = now - self._differs_since >= self.grace_s
        if reported and not self.view.disagreement:
            served = {w.worker: w.model_version for w in workers}
            log.warning(
                "model disagreement: the registry's champion is version %s but the workers serve %s"
                " (for %.0f s)",
                champion,
                served,
                now - self._differs_since,
            )
        return reported
