"""ModelHolder: verified swaps, tamper refusal, the smoke test, and refusals reconsidered."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression

from inference.exceptions import SmokeTestFailed
from inference.model_holder import ModelHolder, smoke_test
from modelstore import ArtifactMetadata, ModelArtifact, sign_artifact
from modelstore.memory import InMemoryModelStore
from tests.unit.test_modelstore_artifact import TRAIN_TO

KEY = "unit-test-signing-key"
NAME = "transfer-fee"


def numeric_artifact(version: str) -> ModelArtifact:
    """A model on numeric features, as the worker's vectors are (its smoke test reads them)."""
    rng = np.random.default_rng(int(version))
    rows = pd.DataFrame({"age": rng.integers(17, 35, 50), "market_value": rng.gamma(2.0, 8.0, 50)})
    model = LinearRegression().fit(rows.to_numpy(dtype=float), np.log1p(rows["market_value"]))
    metadata = ArtifactMetadata(
        model_name=NAME,
        version=version,
        feature_names=("age", "market_value"),
        train_to=TRAIN_TO,
        train_rows=50,
        validation_error=0.2,
    )
    return ModelArtifact(model=model, metadata=metadata, reference=rows)


@pytest.fixture(scope="module")
def blobs() -> dict[str, bytes]:
    return {version: sign_artifact(numeric_artifact(version), KEY) for version in ("1", "2")}


def holder_on(store: InMemoryModelStore) -> ModelHolder:
    return ModelHolder(store=store, model_name=NAME, signing_key=KEY.encode())


def tampered(blob: bytes) -> bytes:
    flipped = bytearray(blob)
    flipped[len(flipped) // 2] ^= 0xFF
    return bytes(flipped)


def test_a_signed_model_serves_and_a_tampered_one_is_refused_while_the_old_keeps_serving(
    blobs: dict[str, bytes], caplog: pytest.LogCaptureFixture
) -> None:
    store = InMemoryModelStore()
    holder = holder_on(store)
    store.publish(NAME, blobs["1"], "1")
    assert asyncio.run(holder.refresh()) is True
    assert holder.version == "1"
    store.publish(NAME, tampered(blobs["2"]), "2")
    with caplog.at_level(logging.ERROR):
        assert asyncio.run(holder.refresh()) is False
    assert holder.version == "1"
    assert [version for version, _ in holder.refused] == ["2"]
    assert "refused model transfer-fee version 2" in caplog.text
    assert asyncio.run(holder.refresh()) is False  # remembered: not verified again on every poll
    assert len(holder.refused) == 1


def test_a_blob_refused_under_one_version_still_serves_under_its_own(blobs: dict[str, bytes]) -> None:
    # A tampered pointer: version 2 -> a copy of version 1's blob (refused: it says version 1).
    store = InMemoryModelStore()
    holder = holder_on(store)
    store.publish(NAME, blobs["2"], "2")
    assert asyncio.run(holder.refresh())
    store.publish(NAME, blobs["1"], "3")
    assert not asyncio.run(holder.refresh())
    assert holder.refused[-1][0] == "3" and "pointer says 3" in holder.refused[-1][1]
    store.publish(NAME, blobs["1"], "1")  # the legitimate promotion of version 1
    assert asyncio.run(holder.refresh())
    assert holder.version == "1"


def test_reconsider_forgets_refusals_so_the_same_blob_is_tried_again(
    blobs: dict[str, bytes], caplog: pytest.LogCaptureFixture
) -> None:
    store = InMemoryModelStore()
    holder = holder_on(store)
    store.publish(NAME, tampered(blobs["1"]), "1")
    assert not asyncio.run(holder.refresh())
    assert not asyncio.run(holder.refresh())
    assert len(holder.refused) == 1  # the second poll skipped it
    with caplog.at_level(logging.WARNING):
        holder.reconsider("ModelPromoted to version 1")
    assert "reconsidering 1 refused model blob" in caplog.text
    assert not asyncio.run(holder.refresh())
    assert len(holder.refused) == 2  # verified (and refused) once more


@dataclass
class FakeArtifact:
    """Just what smoke_test reads of a ModelArtifact."""

    predictions: Any
    feature_names: tuple[str, ...] = ("a", "b")
    reference: pd.DataFrame = field(default_factory=lambda: pd.DataFrame({"a": [1.0, 2.0], "b": [3.0, 4.0]}))

    def predict(self, rows: np.ndarray) -> np.ndarray:
        if isinstance(self.predictions, Exception):
            raise self.predictions
        return np.asarray(self.predictions(rows))


def smoke(artifact: FakeArtifact) -> None:
    smoke_test(cast(ModelArtifact, artifact))


def test_the_smoke_test_passes_finite_predictions_one_per_row() -> None:
    smoke(FakeArtifact(lambda rows: rows.sum(axis=1)))
    smoke(FakeArtifact(lambda rows: np.zeros(len(rows)), reference=pd.DataFrame()))  # zeros, no reference


@pytest.mark.parametrize(
    ("predictions", "reason"),
    [
        (lambda rows: np.full(len(rows), np.nan), "not one finite number"),
        (lambda rows: np.full(len(rows), np.inf), "not one finite number"),
        (lambda rows: np.zeros(len(rows) + 1), "not one finite number"),
        (ValueError("wrong width"), "prediction failed"),
    ],
)
def test_the_smoke_test_refuses_unusable_predictions(predictions: Any, reason: str) -> None:
    with pytest.raises(SmokeTestFailed, match=reason):
        smoke(FakeArtifact(predictions))


def test_a_model_failing_its_smoke_test_is_refused(
    blobs: dict[str, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self: ModelArtifact, rows: Any) -> np.ndarray:
        return np.full(len(rows), np.nan)

    store = InMemoryModelStore()
    holder = holder_on(store)
    store.publish(NAME, blobs["1"], "1")
    monkeypatch.setattr(ModelArtifact, "predict", broken)
    assert not asyncio.run(holder.refresh())
    assert holder.current is None and "finite" in holder.refused[0][1]
