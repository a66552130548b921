"""What the real fees say about each model version, kept by the monitor and shown elsewhere.

Two observers of the drift monitor's outcomes: the interval calibrator (its bounds go to
the workers) and the label health (it goes to the facade: /metrics, the flows page and
GET /v1/models/{version}). Both are written to Redis once per batch, after the batch is
handled; a Redis outage costs a publication (the next batch writes again), never the loop.
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
    )


@dataclass
class LiveEvidence:
    """The calibrator and the label health, with what is due for Redis."""

    calibrator: Calibrator
    health: LabelHealth = field(default_factory=LabelHealth)
    due: dict[str, CalibratedBounds] = field(default_factory=dict)
    published: dict[str, CalibratedBounds] = field(default_factory=dict)
    clock: Callable[[], float] = time.time

    def on_result(self, result: PredictionResult) -> None:
        self.health.on_result(result)

    def on_outcome(self, outcome: Outcome) -> None:
        self.health.on_outcome(outcome)
        bounds = self.calibrator.add(outcome.model_version, outcome.residual)
        if bounds is not None:
            self.due[bounds.version] = bounds

    def flush(self, store: HashStore, prefix: str, model_name: str) -> None:
        """Write what changed since the last flush; Redis errors are logged, kept for the next."""
        bounds_store = BoundsStore(store, prefix, model_name)
        try:
            for bounds in list(self.due.values()):
                bounds_store.publish(bounds)
                self.published[bounds.version] = self.due.pop(bounds.version)
                log.info(
                    "calibrated interval of version %s: %+.3f..%+.3f on log fee (%d labels)",
                    bounds.version,
                    bounds.low,
                    bounds.high,
                    bounds.labels,
                )
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
