"""Conformal recalibration of the prediction interval from the real fees, per model version.

The model's own interval comes from residual quantiles on its validation rows, measured once
at training time; the market moves on (fees inflate, eras differ), so its coverage drifts.
Here each model version keeps the signed residuals log1p(real fee) - log1p(predicted fee) of
its latest ``window`` labelled predictions; once it holds ``min_labels`` of them, its
interval is [prediction + r_lo, prediction + r_hi] with r_lo and r_hi the split-conformal
order statistics of those residuals at the level (for n residuals sorted ascending, the
floor((n + 1) * a / 2)-th and the ceil((n + 1) * (1 - a / 2))-th, a = 1 - level): on
exchangeable residuals that covers at least ``level`` of new fees, and the rolling window
follows the market when it moves. Before ``min_labels``, the model's own interval serves.

A window of past residuals lags a market that moves inside it (and the misses of a moving
era are lopsided: fees falling below in one, above in another), so each tail also adapts
online (adaptive conformal inference, Gibbs & Candes 2021, one per tail): every labelled fee
judged against the version's last published bounds moves that tail's miscoverage target by
``adapt_step`` * (its nominal share a / 2 - 1 if the fee fell beyond that tail else 0); the
order statistics above are taken at those targets. ``adapt_step`` 0 is plain split conformal.

A new version's first publication would rest on its first window's fees alone (a demo
window's requests come in one burst, so the next window is scored with bounds from those few
fees, 178 in a winter window). With ``seed_from_predecessor``, a version new to the
calibrator starts its window with the latest residuals of the version labelled just before
it (the champion it follows, on the same market); its own residuals push them out first in,
first out, so they weigh less with every label and are gone after ``window`` labels. It still
publishes only after ``min_labels`` residuals of its own.

Pure: fed outcomes, it returns the bounds due for publication (every ``publish_every`` new
labels of a version); the monitor loop writes them to Redis for the workers.
"""

from __future__ import annotations

import math
from collections import OrderedDict, deque
from dataclasses import dataclass

from modelstore.calibration import CalibratedBounds

MAX_VERSIONS = 8  # versions whose residuals are kept (the champion, a shadow, recent ones)


@dataclass(frozen=True)
class CalibrationConfig:
    level: float = 0.8
    window: int = 400
    min_labels: int = 50
    publish_every: int = 25
    adapt_step: float = 0.0
    seed_from_predecessor: bool = False

    def __post_init__(self) -> None:
        if not 0 < self.level < 1:
            raise ValueError("level must lie strictly between 0 and 1")
        if not 0 < self.min_labels <= self.window:
            raise ValueError("min_labels must lie in 1..window")
        if self.publish_every < 1:
            raise ValueError("publish_every must be positive")
        if not 0 <= self.adapt_step < 1:
            raise ValueError("adapt_step must lie in [0, 1)")


def conformal_offsets(residuals: list[float], level: float) -> tuple[float, float]:
    """(low, high) split-conformal offsets of ``residuals`` at ``level``; see the module docstring."""
    tail = (1.0 - level) / 2.0
    return tail_offsets(residuals, tail, tail)


def tail_offsets(residuals: list[float], low_tail: float, high_tail: float) -> tuple[float, float]:
    """(low, high) split-conformal offsets leaving ``low_tail`` below and ``high_tail`` above."""
    if not residuals:
        raise ValueError("no residuals")
    ordered = sorted(residuals)
    n = len(ordered)
    # the epsilon keeps 0.1 * 100 at rank 10: in floating point it is 9.999...
    low_rank = min(n, max(1, math.floor((n + 1) * low_tail + 1e-9)))
    high_rank = min(n, max(1, math.ceil((n + 1) * (1.0 - high_tail) - 1e-9)))
    return ordered[low_rank - 1], ordered[high_rank - 1]


class Calibrator:
    """Rolling residuals per model version and the calibrated bounds they give."""

    def __init__(self, config: CalibrationConfig) -> None:
        self.config = config
        self._residuals: OrderedDict[str, deque[float]] = OrderedDict()
        self._since: dict[str, int] = {}
        self._tails: dict[str, tuple[float, float]] = {}  # adapted (low, high) miscoverage targets
        self._published: dict[str, CalibratedBounds] = {}
        self._own: dict[str, int] = {}  # residuals of the version itself, the seed not counted

    def add(self, version: str, residual: float) -> CalibratedBounds | None:
        """One labelled residual of ``version``; the bounds when they are due for publication."""
        window = self._residuals.get(version)
        if window is None:
            window = self._residuals[version] = deque(self._seed(), maxlen=self.config.window)
            self._since[version] = self._own[version] = 0
            while len(self._residuals) > MAX_VERSIONS:
                old, _ = self._residuals.popitem(last=False)
                for kept in (self._since, self._tails, self._published, self._own):
                    kept.pop(old, None)
        self._residuals.move_to_end(version)
        self._adapt(version, residual)
        window.append(residual)
        self._since[version] += 1
        self._own[version] += 1
        own = self._own[version]
        if own < self.config.min_labels:
            return None
        if own > self.config.min_labels and self._since[version] < self.config.publish_every:
            return None
        self._since[version] = 0
        bounds = self.bounds(version)
        if bounds is not None:
            self._published[version] = bounds
        return bounds

    def _seed(self) -> list[float]:
        """The residuals a new version starts with: the latest of the version labelled last."""
        if not self.config.seed_from_predecessor or not self._residuals:
            return []
        return list(next(reversed(self._residuals.values())))

    def _adapt(self, version: str, residual: float) -> None:
        """Move the version's tail targets by its miss against the bounds the workers serve."""
        published = self._published.get(version)
        if self.config.adapt_step == 0 or published is None:
            return
        nominal = (1.0 - self.config.level) / 2.0
        low, high = self._tails.get(version, (nominal, nominal))
        step = self.config.adapt_step
        # a tail target may go to 0 (its extreme residual) or up to 0.5 (the median), no further
        low = min(0.5, max(0.0, low + step * (nominal - float(residual < published.low))))
        high = min(0.5, max(0.0, high + step * (nominal - float(residual > published.high))))
        self._tails[version] = (low, high)

    def bounds(self, version: str) -> CalibratedBounds | None:
        """The calibrated bounds of ``version``; None before ``min_labels`` residuals."""
        window = self._residuals.get(version)
        if window is None or self._own.get(version, 0) < self.config.min_labels:
            return None
        nominal = (1.0 - self.config.level) / 2.0
        low_tail, high_tail = self._tails.get(version, (nominal, nominal))
        low, high = tail_offsets(list(window), low_tail, high_tail)
        return CalibratedBounds(version, self.config.level, low, high, len(window))

    def labels(self, version: str) -> int:
        """Residuals in the version's window, any seed included."""
        window = self._residuals.get(version)
        return 0 if window is None else len(window)
