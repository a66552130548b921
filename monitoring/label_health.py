"""Label health per model version: what was answered, what the real fees said about it.

Per version: requests answered (ok results), labels received (answers that met their real
fee) and their share, label delay (from the answer to the fee reaching the monitor; p50 and
p90 over the latest ``keep`` labels), live MAE (on log1p(fee) and in EUR m) and the share of
real fees inside the interval that was served. Counts are totals since the monitor started
(or since its state was restored); quantiles and means are over the latest ``keep`` labels.
"""

from __future__ import annotations

import math
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from monitoring.windows import Outcome
from schemas.predictions import PredictionResult

MAX_VERSIONS = 32


@dataclass
class VersionHealth:
    keep: int
    answered: int = 0
    labels: int = 0
    with_interval: int = 0
    covered: int = 0
    delays: deque[float] = field(init=False)
    errors_log: deque[float] = field(init=False)
    errors_eur: deque[float] = field(init=False)

    def __post_init__(self) -> None:
        self.delays = deque(maxlen=self.keep)
        self.errors_log = deque(maxlen=self.keep)
        self.errors_eur = deque(maxlen=self.keep)

    def add(self, outcome: Outcome) -> None:
        self.labels += 1
        self.errors_log.append(outcome.abs_error)
        real = math.expm1(outcome.predicted_log_fee + outcome.residual)
        self.errors_eur.append(abs(real - max(0.0, math.expm1(outcome.predicted_log_fee))))
        if outcome.delay_s is not None:
            self.delays.append(outcome.delay_s)
        if outcome.covered is not None:
            self.with_interval += 1
            self.covered += int(outcome.covered)

    def to_json(self) -> dict[str, Any]:
        delays = np.array(self.delays, dtype=float)
        return {
            "requests_answered": self.answered,
            "labels_received": self.labels,
            "label_share": self.labels / self.answered if self.answered else None,
            "label_delay_p50_s": float(np.quantile(delays, 0.5)) if len(delays) else None,
            "label_delay_p90_s": float(np.quantile(delays, 0.9)) if len(delays) else None,
            "live_mae_log": float(np.mean(self.errors_log)) if self.errors_log else None,
            "live_mae_eur_m": float(np.mean(self.errors_eur)) if self.errors_eur else None,
            "interval_coverage": self.covered / self.with_interval if self.with_interval else None,
            "interval_labels": self.with_interval,
        }


class LabelHealth:
    """The health of every recent version; fed by the monitor, read as JSON."""

    def __init__(self, keep: int = 1000) -> None:
        self.keep = keep
        self._versions: OrderedDict[str, VersionHealth] = OrderedDict()
        self.changed: set[str] = set()

    def _of(self, version: str) -> VersionHealth:
        found = self._versions.get(version)
        if found is None:
            found = self._versions[version] = VersionHealth(self.keep)
            while len(self._versions) > MAX_VERSIONS:
                self._versions.popitem(last=False)
        return found

    def on_result(self, result: PredictionResult) -> None:
        if result.status == "ok" and result.model_version:
            self._of(result.model_version).answered += 1
            self.changed.add(result.model_version)

    def on_outcome(self, outcome: Outcome) -> None:
        self._of(outcome.model_version).add(outcome)
        self.changed.add(outcome.model_version)

    def snapshot(self, version: str) -> dict[str, Any] | None:
        found = self._versions.get(version)
        return None if found is None else found.to_json()

    def versions(self) -> list[str]:
        return list(self._versions)
