"""The wire codec: round trips, typed decode errors naming the field, keys, dead letters."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from schemas.codec import dead_letter, decode, encode, encode_for, header, key_for
from schemas.envelope import Event
from schemas.examples import example_events, example_of
from schemas.exceptions import SchemaDecodeError, TopicMismatchError
from schemas.lifecycle import ModelLifecycleEvent, ModelPromoted
from schemas.predictions import PredictionRequest, PredictionRequestV1, PredictionResult
from schemas.records import PlayerRecord, TransferCompleted
from schemas.topics import (
    CATALOGUE,
    DEAD_LETTERS,
    MODELS_LIFECYCLE,
    PREDICTIONS_REQUESTS,
    PREDICTIONS_RESULTS,
)


def _json(event: Event, **changes: Any) -> bytes:
    payload = json.loads(event.model_dump_json())
    payload.update(changes)
    return json.dumps({k: v for k, v in payload.items() if v is not _DROP}).encode()


_DROP = object()


@pytest.mark.parametrize("event", example_events(), ids=lambda e: f"{e.event_type}.v{e.schema_version}")
def test_round_trip_every_event(event: Event) -> None:
    key, value, headers = encode(event, key="k-1")
    assert key == b"k-1"
    assert dict(headers)["event_type"] == event.event_type.encode()
    assert dict(headers)["schema_version"] == str(event.schema_version).encode()
    decoded = decode(value, headers, upgrade=False)
    assert decoded == event and type(decoded) is type(event)


def test_round_trip_on_its_topic_with_its_key() -> None:
    for spec in CATALOGUE:
        for cls in spec.event_classes():
            event = example_of(cls)
            key, value, headers = encode_for(event, spec)
            assert key == str(getattr(event, spec.key)).encode()
            assert decode(value, headers, expected=spec.value_schema).event_id == event.event_id


def test_decode_without_headers_and_with_dict_headers() -> None:
    event = example_of(TransferCompleted)
    _, value, headers = encode(event)
    assert decode(value) == event
    assert decode(value, {"event_type": b"TransferCompleted"}) == event
    assert header(headers, "trace_id") == event.trace_id


def test_expected_type_is_enforced_and_typed() -> None:
    _, value, _ = encode(example_of(PlayerRecord))
    record: PlayerRecord = decode(value, expected=PlayerRecord)
    assert record.player_id == "p-robin-van-persie"
    with pytest.raises(SchemaDecodeError, match="expected TransferCompleted, got PlayerRecord"):
        decode(value, expected=TransferCompleted)
    _, promoted, _ = encode(example_of(ModelPromoted))
    assert isinstance(decode(promoted, expected=ModelLifecycleEvent), ModelPromoted)
    with pytest.raises(SchemaDecodeError, match="expected ModelRegistered"):
        decode(value, expected=ModelLifecycleEvent)
    with pytest.raises(ValueError, match="newest version"):
        decode(value, expected=PredictionRequestV1)


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"not json", "Invalid JSON"),
        (b"\xff\xfe\x00", "Invalid JSON"),
        (b"[1, 2]", "object"),
        (b"{}", "event_type"),
        (b'{"event_type": "NoSuchEvent"}', "event_type: Input tag 'NoSuchEvent'"),
        (b'{"event_type": "PredictionRequest", "schema_version": 9}', "schema_version"),
    ],
)
def test_undecodable_bytes_raise_with_a_reason(payload: bytes, reason: str) -> None:
    with pytest.raises(SchemaDecodeError, match=reason) as caught:
        decode(payload)
    assert caught.value.raw == payload
    assert caught.value.__cause__ is not None


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"age": 60}, "PlayerRecord: age: Input should be less than or equal to 45 (got 60)"),
        ({"age": "29"}, "age: Input should be a valid integer"),
        ({"position": "attack"}, "position: Input should be 'Goalkeeper'"),
        ({"name": _DROP}, "name: Field required"),
        ({"shoe_size": 44}, "shoe_size: Extra inputs are not permitted"),
        ({"as_of": "2012-08-01T12:00:00"}, "as_of: Input should have timezone info"),
        ({"event_id": "nope"}, "event_id:"),
    ],
)
def test_validation_errors_name_the_field(changes: dict[str, Any], reason: str) -> None:
    with pytest.raises(SchemaDecodeError) as caught:
        decode(_json(example_of(PlayerRecord), **changes))
    assert reason in caught.value.reason


def test_versioned_family_errors_name_the_version() -> None:
    with pytest.raises(SchemaDecodeError, match=r"PredictionRequest v2: season:"):
        decode(_json(example_of(PredictionRequest), season=1800))


def test_model_level_rules_surface_in_the_reason() -> None:
    with pytest.raises(SchemaDecodeError, match="needs predicted_fee_eur_m"):
        decode(_json(example_of(PredictionResult), predicted_fee_eur_m=None))


@pytest.mark.parametrize("field", ["event_id", "occurred_at", "source", "trace_id"])
def test_envelope_fields_are_required_on_the_wire(field: str) -> None:
    # Code may omit them (defaults); a message without them is not trusted.
    with pytest.raises(SchemaDecodeError, match=field) as caught:
        decode(_json(example_of(TransferCompleted), **{field: _DROP}))
    assert "missing envelope field" in caught.value.reason or "required" in caught.value.reason


def test_schema_version_is_required_on_the_wire_even_with_one_version() -> None:
    with pytest.raises(SchemaDecodeError, match="schema_version"):
        decode(_json(example_of(PlayerRecord), schema_version=_DROP))


def test_headers_must_agree_with_the_body() -> None:
    _, value, _ = encode(example_of(PlayerRecord))
    with pytest.raises(SchemaDecodeError, match="event_type: header says 'TransferCompleted'"):
        decode(value, [("event_type", b"TransferCompleted")])


def test_empty_value_is_a_decode_error() -> None:
    for empty in (None, b""):
        with pytest.raises(SchemaDecodeError, match="empty"):
            decode(empty)


def test_key_for_reads_the_spec_key_and_checks_the_topic() -> None:
    request = example_of(PredictionRequest)
    assert key_for(request, PREDICTIONS_REQUESTS) == request.player_id
    assert key_for(example_of(PredictionRequestV1), PREDICTIONS_REQUESTS) == request.player_id
    assert key_for(example_of(PredictionResult), PREDICTIONS_RESULTS) == "req-0001"
    assert key_for(example_of(ModelPromoted), MODELS_LIFECYCLE) == "transfer-fee"
    with pytest.raises(TopicMismatchError, match="does not belong"):
        key_for(request, PREDICTIONS_RESULTS)


def test_dead_letter_keeps_raw_bytes_and_trace() -> None:
    raw = b'{"event_type": "PlayerRecord", "age": 99}'
    with pytest.raises(SchemaDecodeError) as caught:
        decode(raw)
    letter = dead_letter(
        raw,
        caught.value.reason,
        "players.records",
        source="inference",
        partition=2,
        offset=41,
        key=b"p-1",
        headers=[("trace_id", b"t-123"), ("odd", b"\xff")],
    )
    assert letter.raw_value() == raw and letter.raw_key() == b"p-1"
    assert letter.trace_id == "t-123" and letter.headers["odd"] == "\ufffd"
    assert letter.error_type == "SchemaDecodeError" and "name: Field required" in letter.reason
    key, value, headers = encode_for(letter, DEAD_LETTERS)
    assert key == b"players.records" and decode(value, headers) == letter
    assert base64.b64decode(letter.raw_value_b64) == raw


def test_dead_letter_of_a_tombstone() -> None:
    letter = dead_letter(None, "tombstone", "players.records", source="inference")
    assert letter.raw_value() == b"" and letter.key is None
