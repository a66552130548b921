"""Which features feature drift compares: the rule that keeps out those that trend by construction.

Counts since the start of the history (``to_club_bought_free``, ``player_moves``...) and
functions of time (``season_index``, the market's 365-day level) move with the calendar, not
with the market: a later window differs from any reference by construction, and such
features made feature drift fire at nearly every check. The rule needs no list of names:
the reference sample holds the model's last training rows in time order (the trainer writes
them so), and a feature whose values follow that order, |Spearman rho| between row position
and value significant at ``trend_p`` (default 1e-4), is left out. The test, not a fixed rho,
decides, because a count since the start differs far more between clubs than one season
adds to it: its rho over the reference's season or two is small (0.1 on 2,000 rows) yet
certain, and it still moves a later window by a normed Wasserstein distance above the
column threshold. A stationary feature is left out by chance once in 10,000. Real shifts of
the market still show in the features kept and in performance drift (the error on real fees).

Two more cases of the same kind, also by rule:

- A count since the start of a source that most rows lack (``record_career_seasons``: 0
  for the players without a season record, about half of them) hides its growth in its
  zeros: over 2,000 rows of 2018-2020 its rho was 0.04 (p 0.1) while among the rows that
  have one it was 0.14 (p 2e-6), and it moved the next window past the column threshold.
  So the test is also run on the rows off the column's most common value, when that value
  holds at least ``MODE_SHARE`` of them; either test being significant leaves it out.

Not by this rule: a feature with one value in the reference (a source that had not started:
no season record before summer 2015) is compared, and its first values make the whole record
block drift at once (19 of the 24 drifted features of the first window after the records
began, on a replay of the real vectors). Leaving such features out was tried: it also took
the constant features out of the share's denominator, and on the synthetic stream without
shift (bench/drift_false_alarms.py) 3 of 6 checks then fired instead of 0.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

DEFAULT_TREND_P = 1e-4
MIN_ROWS = 50
MODE_SHARE = 0.2  # a most common value this frequent is "absent" (no history yet), not a level


@dataclass(frozen=True)
class FeatureChoice:
    """The features compared, and why each other one is not."""

    compared: tuple[str, ...]
    trending: dict[str, float]  # name -> Spearman rho with time (significant)
    excluded: tuple[str, ...]  # by the drift_exclude_features setting


def time_trend(values: pd.Series) -> tuple[float, float]:
    """(Spearman rho, two-sided p-value) of the values against row order (time).

    (0, 1) for a constant or short column: no evidence of a trend.
    """
    array = values.to_numpy(dtype="float64")
    if len(array) < MIN_ROWS or np.nanstd(array) == 0:
        return 0.0, 1.0
    result = spearmanr(np.arange(len(array)), array, nan_policy="omit")
    rho, p_value = float(result.statistic), float(result.pvalue)
    return (0.0, 1.0) if not (np.isfinite(rho) and np.isfinite(p_value)) else (rho, p_value)


def present_trend(values: pd.Series) -> tuple[float, float]:
    """The time trend among the rows off the most common value, when it holds MODE_SHARE of
    the rows (a count that is 0 where there is no history yet); (0, 1) otherwise."""
    counts = values.value_counts(dropna=True)
    if counts.empty or counts.iloc[0] < MODE_SHARE * len(values):
        return 0.0, 1.0
    return time_trend(values[values != counts.index[0]].reset_index(drop=True))


def choose_features(
    reference: pd.DataFrame,
    names: Iterable[str],
    trend_p: float = DEFAULT_TREND_P,
    exclude: frozenset[str] = frozenset(),
) -> FeatureChoice:
    """Numeric features of ``names`` present in the reference, minus the trending and excluded."""
    compared: list[str] = []
    trending: dict[str, float] = {}
    excluded: list[str] = []
    for name in names:
        if name not in reference.columns or not pd.api.types.is_numeric_dtype(reference[name]):
            continue  # vectors on the wire are floats: nothing to meet
        if name in exclude:
            excluded.append(name)
            continue
        column = reference[name].reset_index(drop=True)
        rho, p_value = min(time_trend(column), present_trend(column), key=lambda test: test[1])
        if p_value < trend_p:
            trending[name] = rho
        else:
            compared.append(name)
    return FeatureChoice(tuple(compared), trending, tuple(excluded))
