"""Calibrated interval bounds in the worker: read from Redis on a timer, applied per batch.

The drift monitor publishes, per model version, offsets on log fee computed from that
version's residuals on the real fees (monitoring/calibration.py). The worker keeps the last
read in memory: scoring a batch reads a dict, never Redis. A version without calibrated
bounds (too few labels yet) keeps the model's own interval.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Mapping

from modelstore.calibration import BoundsStore, CalibratedBounds
from modelstore.exceptions import EvidenceStoreUnavailable
from schemas.predictions import PredictionResult

log = logging.getLogger(__name__)


def apply_bounds(
    results: list[PredictionResult], bounds: Mapping[str, CalibratedBounds]
) -> list[PredictionResult]:
    """The results with each scored fee's interval replaced by its version's calibrated one."""
    if not bounds:
        return results
    out = []
    for result in results:
        found = bounds.get(result.model_version or "")
        fee = result.predicted_fee_eur_m
        if found is None or result.status != "ok" or fee is None:
            out.append(result)
            continue
        log_fee = math.log1p(fee)
        low = min(max(0.0, math.expm1(log_fee + found.low)), fee)
        high = max(max(0.0, math.expm1(log_fee + found.high)), fee)
        out.append(result.model_copy(update={"interval_low": low, "interval_high": high}))
    return out


class IntervalBounds:
    """The latest calibrated bounds of every version, refreshed from Redis by a timer."""

    def __init__(self, store: BoundsStore | None) -> None:
        self._store = store
        self.current: dict[str, CalibratedBounds] = {}

    async def refresh(self) -> None:
        if self._store is None:
            return
        try:
            found = await asyncio.to_thread(self._store.read)
        except EvidenceStoreUnavailable as exc:
            log.warning("calibrated bounds unreadable, keeping the last ones: %s", exc)
            return
        if found != self.current:
            for version, bounds in sorted(found.items()):
                if self.current.get(version) != bounds:
                    log.info(
                        "calibrated %d%% interval for version %s: log-fee offsets %+.3f..%+.3f (%d labels)",
                        round(bounds.level * 100),
                        version,
                        bounds.low,
                        bounds.high,
                        bounds.labels,
                    )
            self.current = found

    def apply(self, results: list[PredictionResult]) -> list[PredictionResult]:
        return apply_bounds(results, self.current)
