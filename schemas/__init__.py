"""Event contracts: pydantic models, the topic catalogue and the wire codec."""

from schemas.codec import dead_letter, decode, encode, encode_for, key_for
from schemas.commands import RetrainRequested
from schemas.deadletters import DeadLetter
from schemas.envelope import Event
from schemas.evidence import DecisionEvidence, HoldoutEvidence, ShadowEvidence
from schemas.exceptions import (
    SchemaDecodeError,
    SchemaError,
    TopicMismatchError,
    UnknownPositionError,
)
from schemas.lifecycle import (
    ModelLifecycleEvent,
    ModelPromoted,
    ModelRegistered,
    ModelRejected,
    ModelRolledBack,
    ModelShadowed,
)
from schemas.monitoring import DriftDetected
from schemas.positions import Position, normalise_position, position_group
from schemas.predictions import PredictionRequest, PredictionRequestV1, PredictionResult
from schemas.records import PlayerRecord, TransferCompleted
from schemas.registry import AnyEvent
from schemas.season_stats import PlayerSeasonStats, PlayerSeasonStatsV1

__all__ = [
    "AnyEvent",
    "DeadLetter",
    "DecisionEvidence",
    "DriftDetected",
    "Event",
    "HoldoutEvidence",
    "ModelLifecycleEvent",
    "ModelPromoted",
    "ModelRegistered",
    "ModelRejected",
    "ModelRolledBack",
    "ModelShadowed",
    "PlayerRecord",
    "PlayerSeasonStats",
    "PlayerSeasonStatsV1",
    "Position",
    "PredictionRequest",
    "PredictionRequestV1",
    "PredictionResult",
    "RetrainRequested",
    "SchemaDecodeError",
    "SchemaError",
    "ShadowEvidence",
    "TopicMismatchError",
    "TransferCompleted",
    "UnknownPositionError",
    "dead_letter",
    "decode",
    "encode",
    "encode_for",
    "key_for",
    "normalise_position",
    "position_group",
]
