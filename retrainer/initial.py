"""`mlops-fc train --initial`: a first model from whatever history there is, so the
pipeline can start from nothing.

The main job starts each run from the same history, so its first model can come from a
cache keyed by what decides the fit: the events, the feature names, the training
configuration, the scikit-learn version and the source of the replay and training code
(a hit skips the replay too). A cached model is kept as a signed blob and verified before it
is loaded (a blob signed with another key is a miss).
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import sklearn

from features.training_set import build_training_set
from features.update import PlayerEvent
from features.vector import FEATURE_NAMES
from modelstore.artifact import ArtifactMetadata, ModelArtifact
from modelstore.exceptions import ModelStoreError
from modelstore.lifecycle import Registry
from modelstore.signing import SigningKey, load_artifact, sign_artifact
from retrainer.history import read_season_stats, read_transfers
from retrainer.training import TrainingConfig, train_model
from schemas.evidence import HoldoutEvidence
from schemas.records import TransferCompleted
from stack.kafka_clients import make_producer
from stack.settings import Settings

log = logging.getLogger(__name__)
ROOT = Path(__file__).resolve().parent.parent
# Between the events and the fitted model: a change to any of these trains anew.
REPLAY_CODE = (
    *sorted(f"features/{p.name}" for p in (ROOT / "features").glob("*.py")),
    "retrainer/training.py",
)


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
    events: list[PlayerEvent] = [*stats, *transfers]  # records first: see retrainer.history
    key = settings.model_signing_key
    # Keyed by the events, so a hit also skips their replay into a training set.
    path = cache_dir / f"initial-{training_key(events)}.blob" if cache_dir is not None else None
    artifact = _cached(path, key, settings.model_name) if path is not None else None
    cached = artifact is not None
    if artifact is None:
        frame = build_training_set(events)
        artifact = train_model(frame, settings.model_name, tags={"trigger": "initial"})
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(sign_artifact(artifact, key))
    producer = make_producer(settings)
    registry = Registry.connect(settings, producer)
    params = {"trigger": "initial", "until_season": until_season, "cached": cached}
    registered = registry.register(artifact, run_name="initial", params=params)
    registry.promote(
        registered, reason="initial model: nothing was serving", evidence=first_evidence(artifact)
    )
    return InitialModel(
        registered.version, artifact.metadata.train_rows, dict(artifact.metadata.metrics), cached
    )


def first_evidence(artifact: ModelArtifact) -> HoldoutEvidence:
    """A first model has nothing to beat: its evidence is its own validation (the most recent
    training rows, held out from a first fit; retrainer.training.train_model)."""
    metrics = artifact.metadata.metrics
    return HoldoutEvidence(
        method="first",
        rows=int(metrics.get("val_rows", 0)),
        challenger_mean_error=metrics.get("val_mae_log", artifact.metadata.validation_error),
        challenger_mae_eur_m=metrics.get("val_mae_eur_m"),
    )


def training_key(events: Sequence[PlayerEvent]) -> str:
    """What decides the fit of a first model: the events in order, the features, the config,
    scikit-learn and the code that replays events into a training set."""
    digest = hashlib.sha256()
    for event in events:
        digest.update(event.model_dump_json().encode())
        digest.update(b"\n")
    digest.update(",".join(FEATURE_NAMES).encode())
    digest.update(repr(TrainingConfig()).encode())
    digest.update(sklearn.__version__.encode())
    for name in REPLAY_CODE:
        digest.update((ROOT / name).read_bytes())
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
