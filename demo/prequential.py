"""Prequential scores: each prediction judged against the real fee that arrived after it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass

import numpy as np


@dataclass(frozen=True)
class Judged:
    """One replayed request: the real fee, and what the live system and the static model said."""

    season: int
    fee_eur_m: float
    live_eur_m: float
    static_eur_m: float
    live_version: str


@dataclass(frozen=True)
class Score:
    season: int | None  # None: all seasons together
    rows: int
    live_mae_eur_m: float
    static_mae_eur_m: float
    live_r2_log: float
    static_r2_log: float

    def as_dict(self) -> dict[str, float | int | None]:
        return asdict(self)


def _r2(truth: np.ndarray, predicted: np.ndarray) -> float:
    spread = float(np.sum((truth - truth.mean()) ** 2))
    if spread == 0.0:
        return 0.0
    return 1.0 - float(np.sum((truth - predicted) ** 2)) / spread


def score(rows: list[Judged], season: int | None = None) -> Score:
    fee = np.array([r.fee_eur_m for r in rows])
    live = np.array([r.live_eur_m for r in rows])
    static = np.array([r.static_eur_m for r in rows])
    return Score(
        season=season,
        rows=len(rows),
        live_mae_eur_m=float(np.mean(np.abs(fee - live))) if rows else 0.0,
        static_mae_eur_m=float(np.mean(np.abs(fee - static))) if rows else 0.0,
        live_r2_log=_r2(np.log1p(fee), np.log1p(live)) if rows else 0.0,
        static_r2_log=_r2(np.log1p(fee), np.log1p(static)) if rows else 0.0,
    )


def per_season(rows: Iterable[Judged]) -> list[Score]:
    """One score per season, in season order."""
    by_season: dict[int, list[Judged]] = defaultdict(list)
    for row in rows:
        by_season[row.season].append(row)
    return [score(by_season[s], s) for s in sorted(by_season)]
