"""One valid, deterministic example per event class: for docs, tests and fakes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, TypeVar
from uuid import UUID

from schemas.commands import RetrainRequested
from schemas.deadletters import DeadLetter
from schemas.envelope import Event
from schemas.evidence import HoldoutEvidence, ShadowEvidence
from schemas.lifecycle import (
    ModelPromoted,
    ModelPromotedV1,
    ModelPromotedV2,
    ModelRegistered,
    ModelRejected,
    ModelRejectedV1,
    ModelRejectedV2,
    ModelRolledBack,
    ModelRolledBackV1,
    ModelShadowed,
)
from schemas.monitoring import DriftDetected
from schemas.predictions import PredictionRequest, PredictionRequestV1, PredictionResult
from schemas.records import PlayerRecord, TransferCompleted
from schemas.season_stats import PlayerSeasonStats, PlayerSeasonStatsV1, season_end

E = TypeVar("E", bound=Event)

AT = datetime(2012, 8, 1, 12, 0, tzinfo=UTC)
TRACE_ID = "0b7e4a52-3c1d-4f3e-9a51-5d1f8c2a9e10"
_SHA = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

_REQUEST: dict[str, Any] = {
    "request_id": "req-0001",
    "player_id": "p-robin-van-persie",
    "player_name": "Robin van Persie",
    "age": 29,
    "position": "Centre-Forward",
    "from_club": "Arsenal FC",
    "to_club": "Manchester United",
    "league": "Premier League",
    "season": 2012,
    "window": "summer",
    "requested_at": AT,
    "transfer_id": "t-2012-summer-0042",
}

_EVIDENCE = ShadowEvidence(
    method="wilcoxon",
    pairs=240,
    champion_version="3",
    champion_mean_error=0.62,
    challenger_mean_error=0.51,
    mean_difference=-0.11,
    p_value=0.004,
    interval_low=-0.17,
    interval_high=-0.05,
    alpha=0.05,
    age_s=86400.0,
)
_HOLDOUT = HoldoutEvidence(
    method="holdout",
    rows=400,
    champion_version="3",
    champion_mean_error=0.62,
    challenger_mean_error=0.58,
    champion_mae_eur_m=3.6,
    challenger_mae_eur_m=3.1,
    margin=0.02,
    holdout_from=datetime(2012, 1, 2, tzinfo=UTC),
    holdout_to=datetime(2012, 6, 30, tzinfo=UTC),
)
_SEASON_STATS: dict[str, Any] = {
    "player_id": "p-robin-van-persie",
    "player_name": "Robin van Persie",
    "season": 2011,
    "league": "EPL",
    "team": "Arsenal",
    "position": "Forward",
    "games": 38,
    "minutes": 3343,
    "goals": 30,
    "assists": 9,
    "npg": 28,
    "xg": 24.1,
    "xa": 8.2,
    "npxg": 22.6,
    "shots": 141,
    "key_passes": 66,
    "xg_chain": 33.9,
    "xg_buildup": 6.4,
    "yellow_cards": 5,
    "red_cards": 0,
    "known_at": season_end(2011),
}
_PROMOTED: dict[str, Any] = {
    "model_name": "transfer-fee",
    "version": "4",
    "previous_version": "3",
    "artifact_key": "mlops-fc:model:transfer-fee:4",
    "artifact_sha256": _SHA,
    "reason": "challenger MAE 3.1 < champion MAE 3.6",
}
_REJECTED: dict[str, Any] = {
    "model_name": "transfer-fee",
    "version": "5",
    "reason": "challenger MAE 3.9 >= 3.1",
    "challenger_metrics": {"mae": 3.9},
    "champion_metrics": {"mae": 3.1},
}
_ROLLED_BACK: dict[str, Any] = {
    "model_name": "transfer-fee",
    "from_version": "4",
    "to_version": "3",
    "artifact_key": "mlops-fc:model:transfer-fee:3",
    "artifact_sha256": _SHA,
    "reason": "online MAE doubled after promotion",
}

_FIELDS: dict[type[Event], dict[str, Any]] = {
    PlayerRecord: {
        "player_id": "p-robin-van-persie",
        "name": "Robin van Persie",
        "age": 29,
        "position": "Centre-Forward",
        "club": "Arsenal FC",
        "league": "Premier League",
        "nationality": "Netherlands",
        "as_of": AT,
    },
    TransferCompleted: {
        "transfer_id": "t-2012-summer-0042",
        "player_id": "p-robin-van-persie",
        "player_name": "Robin van Persie",
        "age": 29,
        "position": "Centre-Forward",
        "from_club": "Arsenal FC",
        "to_club": "Manchester United",
        "from_league": "Premier League",
        "to_league": "Premier League",
        "season": 2012,
        "window": "summer",
        "transferred_at": AT,
        "fee_eur_m": 27.5,
    },
    PredictionRequestV1: _REQUEST,
    PredictionRequest: {**_REQUEST, "market_value_eur_m": 22.0},
    PredictionResult: {
        "request_id": "req-0001",
        "player_id": "p-robin-van-persie",
        "transfer_id": "t-2012-summer-0042",
        "status": "ok",
        "predicted_fee_eur_m": 24.1,
        "interval_low": 15.0,
        "interval_high": 33.0,
        "model_name": "transfer-fee",
        "model_version": "3",
        "features": {"age": 29.0, "to_club_mean_fee": 12.4},
        "timings": {"queued": 1.2, "scoring": 0.8, "total": 2.4},
    },
    DriftDetected: {
        "model_name": "transfer-fee",
        "model_version": "3",
        "kind": "feature",
        "method": "evidently:wasserstein",
        "window_start": datetime(2012, 7, 1, tzinfo=UTC),
        "window_end": AT,
        "window_size": 500,
        "scores": {"age": 0.31, "to_club_mean_fee": 0.05},
        "threshold": 0.1,
        "share_drifted": 0.5,
    },
    ModelRegistered: {
        "model_name": "transfer-fee",
        "version": "4",
        "run_id": "a1b2c3d4",
        "metrics": {"mae": 3.1},
        "train_from": datetime(1992, 7, 1, tzinfo=UTC),
        "train_to": AT,
        "train_rows": 41250,
    },
    ModelPromoted: {**_PROMOTED, "evidence": _EVIDENCE},
    ModelRejected: {**_REJECTED, "evidence": _HOLDOUT.model_copy(update={"challenger_mean_error": 0.63})},
    ModelRolledBack: {**_ROLLED_BACK, "evidence": _EVIDENCE},
    DeadLetter: {
        "source_topic": "predictions.requests",
        "partition": 0,
        "offset": 17,
        "key": "cC0x",
        "raw_value_b64": "eyJhZ2UiOiA5OX0=",
        "reason": "age: too old",
        "error_type": "SchemaDecodeError",
        "headers": {"event_type": "PredictionRequest"},
    },
    PlayerSeasonStats: {**_SEASON_STATS, "team_xg": 68.3, "team_xa": 49.5, "team_goals": 74},
    RetrainRequested: {
        "model_name": "transfer-fee",
        "requested_by": "ana@ops",
        "reason": "new season's transfers are in",
    },
    ModelShadowed: {
        "model_name": "transfer-fee",
        "version": "4",
        "champion_version": "3",
        "artifact_key": "mlops-fc:model:transfer-fee:4",
        "artifact_sha256": _SHA,
        "reason": "holdout MAE 3.1 < champion MAE 3.6: judged on live labels",
    },
    ModelPromotedV1: _PROMOTED,
    ModelRejectedV1: _REJECTED,
    ModelRolledBackV1: _ROLLED_BACK,
    ModelPromotedV2: {**_PROMOTED, "evidence": _EVIDENCE},
    ModelRejectedV2: {**_REJECTED, "evidence": _EVIDENCE.model_copy(update={"p_value": 0.41})},
    PlayerSeasonStatsV1: _SEASON_STATS,
}


def example_of(cls: type[E], **changes: Any) -> E:
    """A valid example of cls with fixed envelope values; keyword arguments override."""
    number = list(_FIELDS).index(cls) + 1
    envelope = {
        "event_id": UUID(int=number),
        "occurred_at": AT,
        "source": "examples",
        "trace_id": TRACE_ID,
    }
    return cls(**{**envelope, **_FIELDS[cls], **changes})


def example_events() -> tuple[Event, ...]:
    """One example of every event class and version."""
    return tuple(example_of(cls) for cls in _FIELDS)
