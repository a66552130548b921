"""The main job's first-model cache: keyed by the training set, verified before it is loaded."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from features.training_set import build_training_set
from features.vector import FEATURE_NAMES
from modelstore.signing import sign_artifact
from producers.synthetic import generate
from retrainer.initial import _cached, training_key
from retrainer.training import train_model


def test_a_cached_first_model_is_the_same_model_under_this_runs_name(tmp_path: Path) -> None:
    events = list(generate(5, range(2008, 2011), 150))
    frame = build_training_set(events)
    artifact = train_model(frame, "run-a.transfer-fee", tags={"trigger": "initial"})
    path = tmp_path / f"initial-{training_key(events)}.blob"
    path.write_bytes(sign_artifact(artifact, "key-one"))

    again = _cached(path, "key-one", "run-b.transfer-fee")
    assert again is not None and again.name == "run-b.transfer-fee"
    vectors = frame[list(FEATURE_NAMES)].to_numpy(dtype=float)
    assert np.array_equal(again.predict(vectors), artifact.predict(vectors))
    assert again.metadata.validation_error == artifact.metadata.validation_error
    assert _cached(path, "another-key", "run-b.transfer-fee") is None  # not ours: trained anew
    assert _cached(tmp_path / "missing.blob", "key-one", "x") is None


def test_the_key_follows_the_events() -> None:
    events = list(generate(5, range(2008, 2010), 100))
    assert training_key(events) == training_key(list(events))
    assert training_key(events[:-1]) != training_key(events)
    assert training_key([events[1], events[0], *events[2:]]) != training_key(events)  # order counts
