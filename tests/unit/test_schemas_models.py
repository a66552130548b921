"""Event models: frozen, no unknown fields, aware times, plausible ranges, consistency."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from schemas.deadletters import DeadLetter
from schemas.envelope import Event
from schemas.examples import example_events, example_of
from schemas.lifecycle import ModelLifecycleEvent, ModelPromoted, ModelRolledBack
from schemas.monitoring import DriftDetected
from schemas.predictions import PredictionRequest, PredictionResult
from schemas.records import PlayerRecord, TransferCompleted


@pytest.mark.parametrize("event", example_events(), ids=lambda e: type(e).__name__)
def test_events_are_frozen(event: object) -> None:
    with pytest.raises(ValidationError, match="frozen"):
        event.source = "elsewhere"  # type: ignore[attr-defined]


@pytest.mark.parametrize("event", example_events(), ids=lambda e: type(e).__name__)
def test_unknown_fields_are_rejected(event: Event) -> None:
    with pytest.raises(ValidationError, match="extra_forbidden|Extra inputs"):
        type(event).model_validate({**dict(event), "surprise": 1})


def test_naive_datetimes_are_rejected() -> None:
    with pytest.raises(ValidationError, match="timezone"):
        example_of(PlayerRecord, occurred_at=datetime(2012, 8, 1, 12, 0))
    with pytest.raises(ValidationError, match="timezone"):
        example_of(TransferCompleted, transferred_at=datetime(2012, 8, 1))


def test_aware_datetimes_are_normalised_to_utc() -> None:
    paris = timezone(timedelta(hours=2))
    record = example_of(PlayerRecord, as_of=datetime(2012, 8, 1, 14, 0, tzinfo=paris))
    assert record.as_of == datetime(2012, 8, 1, 12, 0, tzinfo=UTC)
    assert record.as_of.utcoffset() == timedelta(0)


def test_envelope_defaults_are_filled_in_code() -> None:
    fields: dict[str, Any] = {
        "player_id": "p1",
        "name": "A",
        "position": "Goalkeeper",
        "club": "X",
        "as_of": datetime.now(UTC),
        "source": "test",
    }
    a, b = PlayerRecord(**fields), PlayerRecord(**fields)
    assert a.event_type == "PlayerRecord" and a.schema_version == 1
    assert a.occurred_at.tzinfo is UTC and a.trace_id
    assert a.event_id != b.event_id and a.trace_id != b.trace_id


@pytest.mark.parametrize("age", [14, 46, 117])
def test_implausible_ages_are_rejected(age: int) -> None:
    with pytest.raises(ValidationError, match="age"):
        example_of(TransferCompleted, age=age)


def test_age_may_be_unknown() -> None:
    assert example_of(TransferCompleted, age=None).age is None


@pytest.mark.parametrize("fee", [-0.1, 27_500_000.0, float("nan"), float("inf")])
def test_bad_fees_are_rejected(fee: float) -> None:
    with pytest.raises(ValidationError, match="fee_eur_m"):
        example_of(TransferCompleted, fee_eur_m=fee)


def test_strict_mode_does_not_coerce_strings() -> None:
    with pytest.raises(ValidationError, match="age"):
        example_of(PlayerRecord, age="29")


def test_positions_must_be_canonical() -> None:
    with pytest.raises(ValidationError, match="position"):
        example_of(PlayerRecord, position="attack")


def test_result_ok_needs_a_fee_and_a_model_version() -> None:
    with pytest.raises(ValidationError, match="needs predicted_fee_eur_m"):
        example_of(PredictionResult, predicted_fee_eur_m=None)
    with pytest.raises(ValidationError, match="needs predicted_fee_eur_m"):
        example_of(PredictionResult, model_version=None)


def test_result_without_model_carries_no_fee() -> None:
    result = example_of(
        PredictionResult,
        status="no_model",
        predicted_fee_eur_m=None,
        interval_low=None,
        interval_high=None,
        model_version=None,
    )
    assert result.status == "no_model"
    with pytest.raises(ValidationError, match="must not carry"):
        example_of(PredictionResult, status="no_model")


def test_result_error_needs_a_message_and_intervals_are_ordered() -> None:
    with pytest.raises(ValidationError, match="error message"):
        example_of(PredictionResult, status="error", predicted_fee_eur_m=None)
    with pytest.raises(ValidationError, match="exceed"):
        example_of(PredictionResult, interval_low=40.0, interval_high=10.0)
    with pytest.raises(ValidationError, match="together"):
        example_of(PredictionResult, interval_high=None)
    with pytest.raises(ValidationError, match="timings"):
        example_of(PredictionResult, timings={"total": -1.0})


def test_drift_window_and_performance_error() -> None:
    with pytest.raises(ValidationError, match="window_end"):
        example_of(DriftDetected, window_end=datetime(2000, 1, 1, tzinfo=UTC))
    with pytest.raises(ValidationError, match="online_error"):
        example_of(DriftDetected, kind="performance")
    drift = example_of(DriftDetected, kind="performance", online_error=5.2, reference_error=3.0)
    assert drift.online_error == 5.2


def test_lifecycle_union_picks_the_class_from_event_type() -> None:
    adapter: TypeAdapter[object] = TypeAdapter(ModelLifecycleEvent)
    for cls in (ModelPromoted, ModelRolledBack):
        event = example_of(cls)
        assert type(adapter.validate_json(event.model_dump_json())) is cls
    with pytest.raises(ValidationError, match="artifact_sha256"):
        example_of(ModelPromoted, artifact_sha256="not-a-digest")


def test_dead_letter_holds_base64_only() -> None:
    assert example_of(DeadLetter).raw_value() == b'{"age": 99}'
    assert example_of(DeadLetter).raw_key() == b"p-1"
    with pytest.raises(ValidationError, match="base64"):
        example_of(DeadLetter, raw_value_b64="not base64!")


def test_request_market_value_is_optional() -> None:
    assert example_of(PredictionRequest, market_value_eur_m=None).market_value_eur_m is None
