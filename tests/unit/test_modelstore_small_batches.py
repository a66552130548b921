"""The small-batch path gives the estimator's own predictions, and only where it can."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.linear_model import LinearRegression

from modelstore import ArtifactMetadata, ModelArtifact
from modelstore.small_batches import SMALL_BATCH, compile_for_small_batches

NAMES = tuple(f"f{i}" for i in range(6))


def training_data(n: int = 2000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    rows = rng.normal(size=(n, len(NAMES)))
    rows[rng.random(n) < 0.1, 2] = np.nan  # missing values take the learned side of each split
    target = 2 * rows[:, 0] - np.nan_to_num(rows[:, 2]) + rng.normal(scale=0.1, size=n)
    return rows, target


@pytest.fixture(scope="module")
def hgb() -> HistGradientBoostingRegressor:
    rows, target = training_data()
    return HistGradientBoostingRegressor(max_iter=120, max_leaf_nodes=31, random_state=0).fit(rows, target)


def test_matches_the_estimator_on_unseen_rows_with_missing_values(hgb: HistGradientBoostingRegressor) -> None:
    predictor = compile_for_small_batches(hgb, training_data(200, seed=1)[0])
    assert predictor is not None
    rows = training_data(500, seed=2)[0]
    rows[::7, 4] = np.nan
    np.testing.assert_allclose(predictor.predict(rows), hgb.predict(rows), rtol=0, atol=1e-9)
    one = rows[:1]
    assert predictor.predict(one).shape == (1,)


def test_unsupported_estimators_keep_their_own_predict() -> None:
    rows, target = training_data(200)
    linear = LinearRegression().fit(np.nan_to_num(rows), target)
    assert compile_for_small_batches(linear, np.nan_to_num(rows[:10])) is None


def artifact(model: object) -> ModelArtifact:
    rows, _ = training_data(300, seed=3)
    metadata = ArtifactMetadata(
        model_name="m",
        feature_names=NAMES,
        version="1",
        train_to=datetime(2024, 7, 1, tzinfo=UTC),
        validation_error=0.1,
    )
    return ModelArtifact(model=model, metadata=metadata, reference=pd.DataFrame(rows, columns=list(NAMES)))


def test_a_prepared_artifact_routes_small_batches_and_agrees_on_every_size(
    hgb: HistGradientBoostingRegressor, monkeypatch: pytest.MonkeyPatch
) -> None:
    served = artifact(hgb)
    served.prepare_for_serving()
    rows = training_data(3 * SMALL_BATCH, seed=4)[0]
    calls: list[int] = []
    original = hgb.predict
    monkeypatch.setattr(hgb, "predict", lambda x: calls.append(len(x)) or original(x))
    for size in (1, 5, SMALL_BATCH - 1, SMALL_BATCH, 3 * SMALL_BATCH):
        np.testing.assert_allclose(served.predict(rows[:size]), original(rows[:size]), rtol=0, atol=1e-9)
    assert calls == [SMALL_BATCH, 3 * SMALL_BATCH]  # only batches at or above the cut reach sklearn
    frame = pd.DataFrame(rows[:3], columns=list(NAMES))[list(reversed(NAMES))]
    np.testing.assert_allclose(served.predict(frame), original(rows[:3]), rtol=0, atol=1e-9)
