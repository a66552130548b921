"""The holdout judges champion and challenger only on transfers the champion never saw."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import cast

import pandas as pd
import pytest
from pydantic import ValidationError

from modelstore.artifact import ModelArtifact
from retrainer.challenger import Comparison, NotEnoughNewData, split_holdout
from retrainer.window import TrainingWindow
from schemas.evidence import HoldoutEvidence


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


def test_the_gate_evidence_names_both_errors_the_margin_and_the_span() -> None:
    start, end = datetime(2019, 7, 1, tzinfo=UTC), datetime(2019, 8, 31, tzinfo=UTC)
    new = {"mae_log": 0.5, "mae_eur_m": 2.5, "rows": 120.0}
    old = {"mae_log": 0.6, "mae_eur_m": 3.0, "rows": 120.0}
    model = cast(ModelArtifact, object())
    gate = Comparison(model, new, old, 0.02, champion_version="3", holdout_from=start, holdout_to=end)
    assert gate.evidence == HoldoutEvidence(
        method="holdout", rows=120, champion_version="3", champion_mean_error=0.6, challenger_mean_error=0.5,
        champion_mae_eur_m=3.0, challenger_mae_eur_m=2.5, margin=0.02, holdout_from=start, holdout_to=end,
    )  # fmt: skip
    first = Comparison(model, new, {}, 0.02, holdout_from=start, holdout_to=end).evidence
    assert first.method == "first" and first.champion_version is None and first.margin is None
    with pytest.raises(ValidationError, match="names the champion"):
        HoldoutEvidence(method="holdout", rows=1, challenger_mean_error=0.5)
