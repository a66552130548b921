"""The trend rule: features that grow by construction are left out of feature drift, by rule."""

from __future__ import annotations

import numpy as np
import pandas as pd

from monitoring.config import DriftConfig
from monitoring.feature_kinds import DEFAULT_TREND_P, choose_features, present_trend, time_trend
from stack.settings import Settings

ROWS = 2000


def reference(seed: int = 0) -> pd.DataFrame:
    """Rows in time order, as the trainer stores them: the last four seasons of a ten-year history."""
    rng = np.random.default_rng(seed)
    years = np.linspace(6.0, 10.0, ROWS)  # years since the start of the history
    club_rate = rng.gamma(4.0, 1.0, ROWS)  # deals a year: clubs differ far more than a season adds
    return pd.DataFrame(
        {
            "to_club_bought_free": rng.poisson(club_rate * years).astype(float),  # a count since the start
            "season_index": np.floor(years),  # a function of time alone
            "player_days_since_move": np.minimum(rng.exponential(400.0, ROWS), 3650.0),
            "to_club_mean_log_fee": rng.normal(1.5, 0.8, ROWS),  # an ordinary feature
            "age": rng.normal(25.0, 3.5, ROWS).round(),
            "window_summer": (rng.random(ROWS) < 0.7).astype(float),
        }
    )


def test_a_count_since_start_and_a_time_index_are_left_out_and_ordinary_features_kept() -> None:
    frame = reference()
    choice = choose_features(frame, frame.columns, DEFAULT_TREND_P)
    assert set(choice.trending) == {"to_club_bought_free", "season_index"}
    assert choice.compared == ("player_days_since_move", "to_club_mean_log_fee", "age", "window_summer")
    assert 0 < choice.trending["to_club_bought_free"] < 0.5  # clubs differ more than time adds


def test_stationary_features_are_kept_across_samples() -> None:
    for seed in range(20):
        frame = reference(seed)
        _, p_value = time_trend(frame["to_club_mean_log_fee"])
        assert p_value >= DEFAULT_TREND_P, seed
        assert "to_club_bought_free" in choose_features(frame, frame.columns).trending, seed


def test_the_hand_exclusions_still_apply_and_odd_columns_are_skipped() -> None:
    frame = reference().assign(label=["x"] * ROWS)
    choice = choose_features(frame, [*frame.columns, "missing"], DEFAULT_TREND_P, frozenset({"age"}))
    assert choice.excluded == ("age",)
    assert "label" not in choice.compared and "missing" not in choice.compared
    assert time_trend(pd.Series([1.0] * ROWS)) == (0.0, 1.0)  # constant: no trend, kept


def test_the_threshold_is_a_setting() -> None:
    settings = Settings(_env_file=None, drift_trend_p=0.01)  # type: ignore[call-arg]
    assert DriftConfig.from_settings(settings).trend_p == 0.01
    assert Settings(_env_file=None).drift_exclude_features == ()  # type: ignore[call-arg]


def career_seasons(seed: int) -> pd.Series:
    """A count since a source began that 55 % of rows lack (0: no season record), growing among the rest."""
    rng = np.random.default_rng(seed)
    years = np.linspace(6.0, 10.0, ROWS)
    has = np.arange(ROWS) % 20 < 9  # players with a record, spread evenly over time
    seasons = rng.integers(1, 5, ROWS) + (rng.random(ROWS) < 0.22 * (years - 6.0))
    return pd.Series(np.where(has, seasons, 0).astype(float))


def test_a_count_hidden_in_its_zeros_is_left_out_by_the_trend_among_the_rows_that_have_one() -> None:
    column = career_seasons(0)
    assert time_trend(column)[1] >= DEFAULT_TREND_P  # the zeros hide it from the plain test
    assert present_trend(column)[1] < DEFAULT_TREND_P
    for seed in range(10):
        frame = reference(seed).assign(record_career_seasons=career_seasons(seed))
        choice = choose_features(frame, frame.columns)
        assert "record_career_seasons" in choice.trending, seed
        assert {"to_club_mean_log_fee", "age", "window_summer"} <= set(choice.compared), seed


def test_a_stationary_feature_with_many_zeros_is_kept() -> None:
    for seed in range(20):
        rng = np.random.default_rng(seed)
        goals = pd.Series(np.where(np.arange(ROWS) % 2 == 0, rng.poisson(3.0, ROWS), 0).astype(float))
        assert present_trend(goals)[1] >= DEFAULT_TREND_P, seed
        assert "goals" in choose_features(pd.DataFrame({"goals": goals}), ["goals"]).compared, seed
