"""What the real fees say about each model version, kept by the monitor and shown elsewhere.

Two observers of the drift monitor's outcomes: the interval calibrator (its bounds go to
the workers) and the label health (it goes to the facade: /metrics, the flows page and
GET /v1/models/{version}). The label health is written to Redis once per batch, after the
batch is handled. Calibrated bounds go out as soon as they are due (every
``publish_every`` labels of a version, through ``publish``), not at the end of the batch: a
demo window's requests are answered in one burst while the monitor reads their fees in
batches of hundreds, and bounds written only after each batch reached the worker some 250
labels late (bench/calibration.py, a new model every season, bounds seen 300 requests late
instead of 100: 2013 78.0 -> 76.6 %, 2020 77.3 -> 75.4 %). A Redis outage costs a
publication (the end of the batch writes again, the immediate writes pause until then),
never the loop.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from modelstore.calibration import BoundsStore, CalibratedBounds, HashStore, write_health
from modelstore.exceptions import EvidenceStoreUnavailable
from monitoring.calibration import CalibrationConfig, Calibrator
from monitoring.label_health import LabelHealth
from monitoring.windows import Outcome
from schemas.predictions import PredictionResult
from stack.settings import Settings

log = logging.getLogger(__name__)


def calibration_config(settings: Settings) -> CalibrationConfig:
    return CalibrationConfig(
        level=settings.interval_level,
        window=settings.interval_window,
        min_labels=min(settings.interval_min_labels, settings.interval_window),
        publish_every=settings.interval_publish_every,
        adapt_step=settings.interval_adapt_step,
        seed_from_predecessor=settings.interval_seed_from_predecessor,
    )


@dataclass
class LiveEvidence:
    """The calibrator and the label health, with what is due for Redis."""

    calibrator: Calibrator
    health: LabelHealth = field(default_factory=LabelHealth)
    due: dict[str, CalibratedBounds] = field(default_factory=dict)
    published: dict[str, CalibratedBounds] = field(default_factory=dict)
    clock: Callable[[], float] = time.time
    publish: Callable[[CalibratedBounds], None] | None = None  # bounds to Redis at once; None: per batch
    _paused: bool = False  # an immediate write failed: wait for the end of the batch
    _fresh: dict[str, CalibratedBounds] = field(default_factory=dict)  # written in this batch, to log

    def on_result(self, result: PredictionResult) -> None:
        self.health.on_result(result)

    def on_outcome(self, outcome: Outcome) -> None:
        self.health.on_outcome(outcome)
        self._calibrate(outcome)

    def on_shadow_outcome(self, outcome: Outcome) -> None:
        """A shadow prediction met its fee: its version's interval, not the label health of what serves."""
        self._calibrate(outcome)

    def _calibrate(self, outcome: Outcome) -> None:
        bounds = self.calibrator.add(outcome.model_version, outcome.residual)
        if bounds is None:
            return
        self.due[bounds.version] = bounds
        if self.publish is None or self._paused:
            return
        try:
            self.publish(bounds)
        except EvidenceStoreUnavailable as exc:
            self._paused = True
            log.warning("calibrated bounds not written (the end of the batch retries): %s", exc)
            return
        self.published[bounds.version] = self._fresh[bounds.version] = self.due.pop(bounds.version)

    def flush(self, store: HashStore, prefix: str, model_name: str) -> None:
        """Write what changed since the last flush; Redis errors are logged, kept for the next."""
        bounds_store = BoundsStore(store, prefix, model_name)
        try:
            for bounds in list(self.due.values()):
                bounds_store.publish(bounds)
                self.published[bounds.version] = self._fresh[bounds.version] = self.due.pop(bounds.version)
            self._paused = False
            for bounds in self._fresh.values():  # the latest of each version written in this batch
                log.info(
                    "calibrated interval of version %s: %+.3f..%+.3f on log fee (%d labels)",
                    bounds.version,
                    bounds.low,
                    bounds.high,
                    bounds.labels,
                )
            self._fresh.clear()
            for version in sorted(self.health.changed):
                body = self.health.snapshot(version)
                if body is None:
                    continue
                body["calibrated"] = _bounds_json(self.published.get(version))
                body["updated_at"] = self.clock()
                write_health(store, prefix, model_name, version, body)
            self.health.changed.clear()
        except EvidenceStoreUnavailable as exc:
            log.warning("label health and calibrated bounds not written (next batch retries): %s", exc)


def _bounds_json(bounds: CalibratedBounds | None) -> dict[str, Any] | None:
    if bounds is None:
        return None
    return {"level": bounds.level, "low": bounds.low, "high": bounds.high, "labels": bounds.labels}
