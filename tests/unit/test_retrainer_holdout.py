"""The holdout judges champion and challenger only on transfers the champion never saw."""

from __future__ import annotations

import pandas as pd
import pytest

from retrainer.challenger import NotEnoughNewData, split_holdout
from retrainer.window import TrainingWindow


def frame(rows: int) -> pd.DataFrame:
    times = pd.date_range("2010-07-01", periods=rows, freq="D", tz="UTC")
    return pd.DataFrame({"transferred_at": times, "season": [t.year for t in times], "log_fee": 1.0})


def test_holdout_is_the_later_half_of_what_the_champion_has_not_seen() -> None:
    data = frame(1000)
    cutoff = data["transferred_at"].iloc[799]  # the champion trained on the first 800 days
    train, holdout = split_holdout(data, holdout_rows=500, unseen_after=cutoff)
    assert len(holdout) == 100 and holdout["transferred_at"].min() > cutoff
    assert len(train) == 900  # the challenger learns from the first half of the new rows too


def test_holdout_is_capped_and_without_a_champion_is_the_recent_third() -> None:
    data = frame(3000)
    cutoff = data["transferred_at"].iloc[0]
    assert len(split_holdout(data, holdout_rows=400, unseen_after=cutoff)[1]) == 400
    assert len(split_holdout(frame(90), holdout_rows=400)[1]) == 30


def test_too_little_new_data_is_refused_with_the_reason() -> None:
    data = frame(1000)
    with pytest.raises(NotEnoughNewData, match="only 60 paid transfers"):
        split_holdout(data, holdout_rows=500, unseen_after=data["transferred_at"].iloc[939])


def test_training_windows() -> None:
    data = frame(1000)
    kept, weights = TrainingWindow.parse("seasons:1").select(data)
    assert set(kept["season"]) == {data["season"].max()} and weights is None
    _, decayed = TrainingWindow.parse("decay:1").select(data)
    assert decayed is not None and decayed.max() == 1.0 and decayed.min() == 0.5**3
    with pytest.raises(ValueError, match="training window"):
        TrainingWindow.parse("weekly")
