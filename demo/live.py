"""The main job's running score: live and static MAE so far, one point per window.

Each window's answered requests are judged as soon as their real fees are known (they were
published right after the requests), so the console and the flows page's chart show the
prequential comparison while the job runs, not only at the end.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from schemas.predictions import PredictionResult
from schemas.records import TransferCompleted
from stack.supervised import write_json


@dataclass(frozen=True)
class WindowPoint:
    """One window of the main job: its scores so far and where its time went."""

    index: int
    total: int
    season: int
    window: str
    requests: int
    live_mae_eur_m: float
    static_mae_eur_m: float
    window_live_mae_eur_m: float
    window_static_mae_eur_m: float
    serving_version: str | None
    stage_s: dict[str, float]  # publish, answered, monitor, retrainer

    @property
    def label(self) -> str:
        return f"{self.season} {self.window}"


@dataclass
class LiveScore:
    """Sums of absolute errors, live and static, over every judged request so far."""

    static: Any  # the first model's artifact (predict on a feature matrix of log fees)
    judged: set[str] = field(default_factory=set)
    live_sum: float = 0.0
    static_sum: float = 0.0
    points: list[WindowPoint] = field(default_factory=list)

    def judge(
        self, results: list[PredictionResult], fees: dict[str, TransferCompleted]
    ) -> tuple[float, float, int]:
        """Add the results not judged yet; the window's (live MAE, static MAE, rows)."""
        fresh = [
            r
            for r in results
            if r.status == "ok"
            and r.predicted_fee_eur_m is not None
            and r.transfer_id in fees
            and r.transfer_id not in self.judged
        ]
        if not fresh:
            return 0.0, 0.0, 0
        names = self.static.feature_names
        matrix = np.array([[r.features[n] for n in names] for r in fresh], dtype=float)
        static = np.maximum(np.expm1(self.static.predict(matrix)), 0.0)
        truth = np.array([fees[r.transfer_id].fee_eur_m for r in fresh])  # type: ignore[index]
        live = np.array([float(r.predicted_fee_eur_m or 0.0) for r in fresh])
        live_err, static_err = float(np.abs(truth - live).sum()), float(np.abs(truth - static).sum())
        self.live_sum += live_err
        self.static_sum += static_err
        self.judged |= {r.transfer_id for r in fresh if r.transfer_id}
        return live_err / len(fresh), static_err / len(fresh), len(fresh)

    @property
    def live_mae(self) -> float:
        return self.live_sum / len(self.judged) if self.judged else 0.0

    @property
    def static_mae(self) -> float:
        return self.static_sum / len(self.judged) if self.judged else 0.0


def write_progress(
    path: Path, prefix: str, points: list[WindowPoint], events: list[dict[str, object]]
) -> None:
    """What the flows page charts: the run's namespace, its windows so far and its decisions."""
    body = {
        "prefix": prefix,
        "updated_at": time.time(),
        "windows": [{**asdict(p), "label": p.label} for p in points],
        "events": events,
    }
    write_json(path, body)
