"""Pure batch scoring: request vectors in, one PredictionResult per request out."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from features.vector import FEATURE_NAMES, vector_matrix
from modelstore.artifact import ModelArtifact
from schemas.predictions import PredictionRequest, PredictionResult

INTERVAL_LEVELS = (0.1, 0.9)
SOURCE = "inference-worker"


@dataclass(frozen=True)
class Pending:
    """A decoded request with its feature vector and when it reached the broker."""

    request: PredictionRequest
    features: dict[str, float]
    broker_ts: float  # seconds since the epoch, the Kafka message timestamp


def score_batch(
    model: ModelArtifact | None,
    model_name: str,
    batch: list[Pending],
    started: float,
    now: float,
    source: str = SOURCE,
    matrix: np.ndarray | None = None,
) -> list[PredictionResult]:
    """Score a whole batch with one vectorised predict (log fee space, then back to EUR m).

    ``matrix`` (from feature_matrix) lets a shadow model score the very matrix the champion did.
    """
    if not batch:
        return []
    if model is None:
        return [
            _result(
                p,
                model_name,
                None,
                started,
                now,
                source,
                status="no_model",
                error="no model has been published yet",
            )
            for p in batch
        ]
    matrix = feature_matrix(batch) if matrix is None else matrix
    if tuple(model.feature_names) != FEATURE_NAMES:
        matrix = matrix[:, [FEATURE_NAMES.index(name) for name in model.feature_names]]
    log_fees = model.predict(matrix)
    low, high = _interval(model, log_fees)
    return [
        _result(
            p,
            model_name,
            model.version,
            started,
            now,
            source,
            log_fee=float(log_fees[i]),
            low=None if low is None else float(low[i]),
            high=None if high is None else float(high[i]),
        )
        for i, p in enumerate(batch)
    ]


def feature_matrix(batch: list[Pending]) -> np.ndarray:
    """The batch's vectors as one matrix, columns in FEATURE_NAMES order."""
    return vector_matrix([p.features for p in batch])


def error_results(
    batch: list[Pending],
    model_name: str,
    version: str | None,
    exc: Exception,
    now: float,
    source: str = SOURCE,
) -> list[PredictionResult]:
    """One error result per request, for a batch the model failed to score."""
    return [
        PredictionResult(
            source=source,
            trace_id=p.request.trace_id,
            request_id=p.request.request_id,
            player_id=p.request.player_id,
            transfer_id=p.request.transfer_id,
            status="error",
            model_name=model_name,
            model_version=version,
            features=p.features,
            error=f"scoring failed: {exc!r}",
            timings={"total": max(0.0, (now - p.broker_ts) * 1000)},
        )
        for p in batch
    ]


def _interval(model: ModelArtifact, log_fees: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None]:
    info = model.metadata.interval
    if info is None or not all(level in info.residual_quantiles for level in INTERVAL_LEVELS):
        return None, None
    quantiles = info.residual_quantiles
    return log_fees + quantiles[INTERVAL_LEVELS[0]], log_fees + quantiles[INTERVAL_LEVELS[1]]


def _to_fee(log_fee: float) -> float:
    return max(0.0, math.expm1(log_fee))


def _result(
    p: Pending,
    model_name: str,
    version: str | None,
    started: float,
    now: float,
    source: str,
    *,
    status: str = "ok",
    log_fee: float | None = None,
    low: float | None = None,
    high: float | None = None,
    error: str | None = None,
) -> PredictionResult:
    fee = None if log_fee is None else _to_fee(log_fee)
    interval_low = None if low is None or fee is None else min(_to_fee(low), fee)
    interval_high = None if high is None or fee is None else max(_to_fee(high), fee)
    return PredictionResult(
        source=source,
        trace_id=p.request.trace_id,
        request_id=p.request.request_id,
        player_id=p.request.player_id,
        transfer_id=p.request.transfer_id,
        status=status,  # type: ignore[arg-type]
        predicted_fee_eur_m=fee,
        interval_low=interval_low,
        interval_high=interval_high,
        model_name=model_name,
        model_version=version,
        features=p.features,
        timings={
            "queued": max(0.0, (started - p.broker_ts) * 1000),
            "scoring": max(0.0, (now - started) * 1000),
            "total": max(0.0, (now - p.broker_ts) * 1000),
        },
        error=error,
    )
