"""`mlops-fc train --initial`: a first model from whatever history there is, so the
pipeline can start from nothing."""

from __future__ import annotations

from dataclasses import dataclass

from features.training_set import build_training_set
from modelstore.lifecycle import Registry
from retrainer.history import read_season_stats, read_transfers
from retrainer.training import train_model
from schemas.records import TransferCompleted
from stack.kafka_clients import make_producer
from stack.settings import Settings


@dataclass(frozen=True)
class InitialModel:
    version: str
    rows: int
    metrics: dict[str, float]


def train_initial(
    settings: Settings, transfers: list[TransferCompleted] | None = None, until_season: int | None = None
) -> InitialModel:
    """Train on ``transfers`` (or the whole of transfers.completed), register and promote."""
    if transfers is None:
        transfers, _ = read_transfers(settings)
    if until_season is not None:
        transfers = [t for t in transfers if t.season <= until_season]
    stats, _ = read_season_stats(settings)
    frame = build_training_set([*stats, *transfers])  # records first: see retrainer.history
    artifact = train_model(frame, settings.model_name, tags={"trigger": "initial"})
    producer = make_producer(settings)
    registry = Registry.connect(settings, producer)
    registered = registry.register(
        artifact, run_name="initial", params={"trigger": "initial", "until_season": until_season}
    )
    registry.promote(registered, reason="initial model: nothing was serving")
    return InitialModel(registered.version, len(frame), dict(artifact.metadata.metrics))
