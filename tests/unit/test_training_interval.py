"""The model's own interval: residual quantiles at the levels that held out of time on its history."""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.vector import FEATURE_NAMES
from retrainer.training import TrainingConfig, out_of_time_levels

FAST = TrainingConfig(max_iter=30)


def history(rows: int, noise_growth: float, seed: int) -> pd.DataFrame:
    """A fee that one feature explains, plus noise whose spread grows as exp(noise_growth * t), t in 0..1."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(rng.normal(size=(rows, len(FEATURE_NAMES))), columns=list(FEATURE_NAMES))
    spread = 0.4 * np.exp(noise_growth * np.linspace(0, 1, rows))
    frame["log_fee"] = 1.5 + 0.5 * frame[FEATURE_NAMES[0]] + rng.normal(size=rows) * spread
    frame["transferred_at"] = pd.date_range("2000-01-01", periods=rows, freq="D", tz="UTC")
    return frame


def levels_for(frame: pd.DataFrame) -> dict[float, float]:
    from retrainer.training import fit_estimator

    cut = int(len(frame) * 0.85)
    held_out = fit_estimator(frame.iloc[:cut], FAST)
    valid = frame.iloc[cut:]
    predicted = held_out.predict(valid[list(FEATURE_NAMES)].to_numpy(dtype=float))
    residuals = valid["log_fee"].to_numpy() - predicted
    return out_of_time_levels(frame, cut, residuals, FAST, None)


def test_a_spread_that_keeps_growing_widens_both_tails() -> None:
    levels = levels_for(history(4000, noise_growth=3.0, seed=1))
    assert levels[0.1] < 0.08 and levels[0.9] > 0.92


def test_a_steady_spread_keeps_the_nominal_levels() -> None:
    levels = levels_for(history(4000, noise_growth=0.0, seed=2))
    assert abs(levels[0.1] - 0.1) < 0.03 and abs(levels[0.9] - 0.9) < 0.03


def test_a_history_too_short_for_the_earlier_slice_keeps_the_nominal_levels() -> None:
    frame = history(120, noise_growth=0.0, seed=3)
    assert out_of_time_levels(frame, 102, np.zeros(18), FAST, None) == {}
