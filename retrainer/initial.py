"""`mlops-fc train --initial`: a first model from whatever history there is, so the
pipeline can start from nothing.

The main job starts each run from the same history, so its first model can come from a
cache keyed by what decides the fit: the training set's content, the feature names, the
training configuration and the scikit-learn version. A cached model is kept as a signed
blob and verified before it is loaded (a blob signed with another key is a miss).
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import sklearn

from features.training_set import build_training_set
from features.vector import FEATURE_NAMES
from modelstore.artifact import ArtifactMetadata, ModelArtifact
from modelstore.exceptions import ModelStoreError
from modelstore.lifecycle import Registry
from modelstore.signing import SigningKey, load_artifact, sign_artifact
from retrainer.history import read_season_stats, read_transfers
from retrainer.training import TrainingConfig, train_model
from schemas.records import TransferCompleted
from stack.kafka_clients import make_producer
from stack.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class InitialModel:
    version: str
    rows: int
    metrics: dict[str, float]
    cached: bool = False


def train_initial(
    settings: Settings,
    transfers: list[TransferCompleted] | None = None,
    until_season: int | None = None,
    cache_dir: Path | None = None,
) -> InitialModel:
    """Train on ``transfers`` (or the whole of transfers.completed), register and promote.

    With ``cache_dir``, a model fitted earlier on the very same training set is reused.
    """
    if transfers is None:
        transfers, _ = read_transfers(settings)
    if until_season is not None:
        transfers = [t for t in transfers if t.season <= until_season]
    stats, _ = read_season_stats(settings)
    frame = build_training_set([*stats, *transfers])  # records first: see retrainer.history
    key = settings.model_signing_key
    path = cache_dir / f"initial-{training_key(frame)}.blob" if cache_dir is not None else None
    artifact = _cached(path, key, settings.model_name) if path is not None else None
    cached = artifact is not None
    if artifact is None:
        artifact = train_model(frame, settings.model_name, tags={"trigger": "initial"})
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(sign_artifact(artifact, key))
    producer = make_producer(settings)
    registry = Registry.connect(settings, producer)
    params = {"trigger": "initial", "until_season": until_season, "cached": cached}
    registered = registry.register(artifact, run_name="initial", params=params)
    registry.promote(registered, reason="initial model: nothing was serving")
    return InitialModel(registered.version, len(frame), dict(artifact.metadata.metrics), cached)


def training_key(frame: pd.DataFrame) -> str:
    """What decides the fit of a first model: the rows, the features, the config, sklearn."""
    digest = hashlib.sha256()
    digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    digest.update(",".join(frame.columns).encode())
    digest.update(",".join(FEATURE_NAMES).encode())
    digest.update(repr(TrainingConfig()).encode())
    digest.update(sklearn.__version__.encode())
    return digest.hexdigest()[:32]


def _cached(path: Path, key: SigningKey, model_name: str) -> ModelArtifact | None:
    """The cached first model under this run's model name, or None (missing or not ours)."""
    if not path.exists():
        return None
    try:
        artifact = load_artifact(path.read_bytes(), key)
    except (ModelStoreError, OSError) as exc:
        log.warning("ignoring the cached first model %s: %s", path, exc)
        return None
    metadata = ArtifactMetadata.model_validate({**artifact.metadata.model_dump(), "model_name": model_name})
    return dataclasses.replace(artifact, metadata=metadata)
