"""The artifact itself: metadata rules, the reference sample codec, predictions."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.linear_model import LinearRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler

from modelstore import (
    MAX_REFERENCE_ROWS,
    ArtifactMetadata,
    IntervalInfo,
    ModelArtifact,
    load_artifact,
    sign_artifact,
)
from modelstore.reference import decode_reference, encode_reference

FEATURES = ("age", "market_value", "position", "to_league")
TRAIN_TO = datetime(2024, 7, 1, tzinfo=UTC)


def player_rows(n: int, seed: int = 0) -> pd.DataFrame:
    """Rows shaped like the feature vectors the worker builds."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "age": rng.integers(17, 35, n),
            "market_value": rng.gamma(2.0, 8.0, n),
            "position": rng.choice(["GK", "DF", "MF", "FW"], n),
            "to_league": rng.choice(["EPL", "LaLiga", "SerieA"], n),
        }
    )


def fee_pipeline() -> Pipeline:
    """The shape of the production model: encoders in a ColumnTransformer, then HGB."""
    encode = ColumnTransformer(
        [
            ("num", StandardScaler(), ["age", "market_value"]),
            ("cat", OneHotEncoder(handle_unknown="ignore"), ["position", "to_league"]),
        ]
    )
    return Pipeline([("encode", encode), ("model", HistGradientBoostingRegressor(max_iter=20))])


def make_artifact(version: str | None = "1", name: str = "transfer-fee") -> ModelArtifact:
    rows = player_rows(300)
    target = np.log1p(rows["market_value"] * (1 + (rows["position"] == "FW")))
    model = fee_pipeline().fit(rows, target)
    metadata = ArtifactMetadata(
        model_name=name,
        version=version,
        feature_names=FEATURES,
        train_from=datetime(2015, 7, 1, tzinfo=UTC),
        train_to=TRAIN_TO,
        train_rows=len(rows),
        metrics={"mae_log": 0.21, "rmse_log": 0.3},
        validation_error=0.21,
        interval=IntervalInfo(residual_quantiles={0.05: -0.4, 0.5: 0.0, 0.95: 0.45}),
        tags={"trainer": "unit"},
    )
    return ModelArtifact(model=model, metadata=metadata, reference=rows.head(100))


def test_predict_accepts_frames_in_any_column_order_and_arrays() -> None:
    artifact = make_artifact()
    rows = player_rows(50, seed=3)
    expected = artifact.predict(rows)
    np.testing.assert_array_equal(artifact.predict(rows[list(reversed(FEATURES))]), expected)
    np.testing.assert_array_equal(artifact.predict(rows.to_numpy()), expected)
    assert expected.dtype == np.float64 and expected.shape == (50,)


def test_predict_rejects_missing_features_and_wrong_width() -> None:
    artifact = make_artifact()
    with pytest.raises(ValueError, match="market_value"):
        artifact.predict(player_rows(5).drop(columns="market_value"))
    with pytest.raises(ValueError, match="shape"):
        artifact.predict(np.zeros((5, 3)))


def test_predict_on_a_model_fitted_on_arrays() -> None:
    x = np.arange(40, dtype=float).reshape(-1, 2)
    metadata = ArtifactMetadata(
        model_name="lin", feature_names=("a", "b"), train_to=TRAIN_TO, validation_error=0.0
    )
    artifact = ModelArtifact(LinearRegression().fit(x, x.sum(axis=1)), metadata)
    frame = pd.DataFrame(x, columns=["b", "a"])[["a", "b"]]
    np.testing.assert_allclose(artifact.predict(frame), x.sum(axis=1))


def test_predict_interval_adds_residual_quantiles() -> None:
    artifact = make_artifact()
    rows = player_rows(10)
    low, high = artifact.predict_interval(rows, 0.05, 0.95)
    np.testing.assert_allclose(high - low, 0.85)
    with pytest.raises(ValueError, match="levels"):
        artifact.predict_interval(rows, 0.1, 0.9)


def test_with_version_stamps_a_copy() -> None:
    artifact = make_artifact(version=None)
    stamped = artifact.with_version("7")
    assert (artifact.version, stamped.version) == (None, "7")
    assert stamped.model is artifact.model


def test_metadata_rules() -> None:
    base = make_artifact().metadata.model_dump()
    with pytest.raises(ValidationError):
        ArtifactMetadata.model_validate({**base, "train_from": datetime(2030, 1, 1, tzinfo=UTC)})
    with pytest.raises(ValidationError):
        ArtifactMetadata.model_validate({**base, "feature_names": ("age", "age")})
    with pytest.raises(ValidationError):
        ArtifactMetadata.model_validate({**base, "train_to": datetime(2024, 1, 1)})  # naive
    with pytest.raises(ValidationError):
        ArtifactMetadata.model_validate({**base, "surprise": 1})
    with pytest.raises(ValidationError):
        IntervalInfo(residual_quantiles={1.5: 0.1})


def test_reference_codec_round_trips_mixed_dtypes() -> None:
    frame = pd.DataFrame(
        {
            "age": np.array([18, 25, 31], dtype=np.int64),
            "value": [1.5, np.nan, 1e-7],
            "loan": [True, False, True],
            "position": pd.Categorical(["GK", None, "FW"]),
            "club": ["Ajax", None, "Benfica"],
            "seen_at": pd.to_datetime(["2024-01-01", None, "2024-06-30"], utc=True),
            "naive_at": pd.to_datetime(["2024-01-01", "2024-02-01", None]),
            "small": np.array([1, 2, 3], dtype=np.int8),
        }
    )
    pd.testing.assert_frame_equal(decode_reference(encode_reference(frame)), frame)


def test_reference_is_compact() -> None:
    frame = player_rows(MAX_REFERENCE_ROWS)
    artifact = make_artifact()
    full = ModelArtifact(artifact.model, artifact.metadata, reference=frame)
    blob = sign_artifact(full, "k")
    # 5,000 rows of 4 columns: well under the ~1 MB that raw JSON text would take.
    assert len(blob) - len(sign_artifact(artifact, "k")) < 300_000
    pd.testing.assert_frame_equal(load_artifact(blob, "k").reference, frame)


def test_reference_sample_is_bounded() -> None:
    artifact = make_artifact()
    with pytest.raises(ValueError, match="rows"):
        ModelArtifact(artifact.model, artifact.metadata, player_rows(MAX_REFERENCE_ROWS + 1))
    with pytest.raises(ValueError, match="rows"):
        encode_reference(player_rows(MAX_REFERENCE_ROWS + 1))


def test_reference_rejects_unsupported_columns() -> None:
    with pytest.raises(ValueError, match="dtype"):
        encode_reference(pd.DataFrame({"span": pd.to_timedelta([1, 2], unit="D")}))


def test_model_without_predict_is_rejected() -> None:
    metadata = make_artifact().metadata
    with pytest.raises(TypeError, match="predict"):
        ModelArtifact(model=StandardScaler(), metadata=metadata)


def test_categorical_hgb_survives_signing() -> None:
    # Native categorical support pickles partial(check_array); the allow-list must take it.
    rows = player_rows(200)
    encode = ColumnTransformer(
        [("cat", OrdinalEncoder(), ["position", "to_league"])],
        remainder="passthrough",
        verbose_feature_names_out=False,
    ).set_output(transform="pandas")
    model = Pipeline(
        [("encode", encode), ("model", HistGradientBoostingRegressor(categorical_features=[0, 1]))]
    ).fit(rows, rows["market_value"])
    artifact = ModelArtifact(model, make_artifact().metadata)
    loaded = load_artifact(sign_artifact(artifact, "k"), "k")
    np.testing.assert_array_equal(loaded.predict(rows), artifact.predict(rows))
