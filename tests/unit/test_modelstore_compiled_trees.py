"""Compiled trees give the estimator's own predictions, the same whatever the batch size."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.linear_model import LinearRegression

from modelstore import ArtifactMetadata, ModelArtifact
from modelstore.compiled_trees import compile_trees

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
    compiled = compile_trees(hgb, training_data(200, seed=1)[0])
    assert compiled is not None
    rows = training_data(500, seed=2)[0]
    rows[::7, 4] = np.nan
    np.testing.assert_allclose(compiled.predict(rows), hgb.predict(rows), rtol=0, atol=1e-9)
    assert compiled.predict(rows[:1]).shape == (1,)


def test_unsupported_estimators_keep_their_own_predict() -> None:
    rows, target = training_data(200)
    linear = LinearRegression().fit(np.nan_to_num(rows), target)
    assert compile_trees(linear, np.nan_to_num(rows[:10])) is None


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


def test_a_served_artifact_gives_bit_identical_answers_whatever_the_batch(
    hgb: HistGradientBoostingRegressor,
) -> None:
    # A redelivered request lands in a batch of another size: its answer must not change.
    served = artifact(hgb)
    served.prepare_for_serving()
    rows = training_data(300, seed=4)[0]
    alone = np.concatenate([served.predict(rows[i : i + 1]) for i in range(len(rows))])
    for size in (5, 64, 300):
        batched = np.concatenate([served.predict(rows[i : i + size]) for i in range(0, len(rows), size)])
        assert np.array_equal(batched, alone), size
    np.testing.assert_allclose(alone, hgb.predict(rows), rtol=0, atol=1e-9)
    frame = pd.DataFrame(rows[:3], columns=list(NAMES))[list(reversed(NAMES))]
    np.testing.assert_allclose(served.predict(frame), alone[:3], rtol=0, atol=1e-9)
