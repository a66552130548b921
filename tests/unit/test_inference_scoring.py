"""score_batch: one vectorised predict a batch, one result per request, in the model's columns."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import cast

import numpy as np
import pytest

from features.vector import FEATURE_NAMES
from inference.scoring import Pending, error_results, score_batch
from modelstore import IntervalInfo, ModelArtifact
from schemas.predictions import PredictionRequest


@dataclass
class Metadata:
    interval: IntervalInfo | None = None


@dataclass
class FakeModel:
    """Predicts the first model column; records what it was given."""

    feature_names: tuple[str, ...]
    version: str = "7"
    metadata: Metadata = field(default_factory=Metadata)
    seen: list[np.ndarray] = field(default_factory=list)

    def predict(self, rows: np.ndarray) -> np.ndarray:
        self.seen.append(rows)
        return rows[:, 0].astype(float)


def pending(i: int, broker_ts: float = 100.0) -> Pending:
    request = PredictionRequest(
        source="test",
        request_id=f"r{i}",
        player_id=f"p{i}",
        position="Centre-Back",
        from_club="A",
        to_club="B",
        season=2024,
        window="summer",
        requested_at=datetime(2024, 7, 1, tzinfo=UTC),
    )
    features = {name: i + j / 100 for j, name in enumerate(FEATURE_NAMES)}
    return Pending(request, features, broker_ts)


def score(model: FakeModel | None, batch: list[Pending]) -> list:
    return score_batch(cast(ModelArtifact | None, model), "fee", batch, started=100.5, now=101.0, source="w")


def test_one_predict_for_the_batch_and_one_result_per_request_in_order() -> None:
    model = FakeModel(FEATURE_NAMES)
    batch = [pending(i) for i in range(3)]
    results = score(model, batch)
    assert len(model.seen) == 1 and model.seen[0].shape == (3, len(FEATURE_NAMES))
    assert [r.request_id for r in results] == ["r0", "r1", "r2"]
    assert {r.status for r in results} == {"ok"} and {r.model_version for r in results} == {"7"}
    assert results[1].predicted_fee_eur_m == pytest.approx(np.expm1(1.0))  # log fee back to EUR m
    assert results[0].timings == {"queued": 500.0, "scoring": 500.0, "total": 1000.0}
    assert results[0].source == "w" and results[0].features == batch[0].features


def test_columns_follow_the_models_feature_order() -> None:
    model = FakeModel((FEATURE_NAMES[2], FEATURE_NAMES[0]))
    score(model, [pending(1)])
    assert model.seen[0].tolist() == [[1.02, 1.0]]


def test_intervals_come_from_the_residual_quantiles_and_bracket_the_fee() -> None:
    model = FakeModel(
        FEATURE_NAMES, metadata=Metadata(IntervalInfo(residual_quantiles={0.1: -0.5, 0.9: 0.5}))
    )
    (result,) = score(model, [pending(0)])
    assert result.interval_low is not None and result.interval_high is not None
    assert result.interval_low <= (result.predicted_fee_eur_m or 0) <= result.interval_high


def test_without_a_model_every_request_gets_a_no_model_result() -> None:
    results = score(None, [pending(0), pending(1)])
    assert [r.status for r in results] == ["no_model", "no_model"]
    assert all(r.predicted_fee_eur_m is None and r.model_version is None for r in results)


def test_an_empty_batch_scores_nothing() -> None:
    model = FakeModel(FEATURE_NAMES)
    assert score(model, []) == [] and model.seen == []


def test_error_results_name_the_failure_for_every_request() -> None:
    results = error_results([pending(0), pending(1)], "fee", "7", ValueError("boom"), now=101.0, source="w")
    assert [r.status for r in results] == ["error", "error"]
    assert all("boom" in (r.error or "") and r.model_version == "7" for r in results)
    assert results[0].timings == {"total": 1000.0}
