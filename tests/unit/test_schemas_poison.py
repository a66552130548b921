"""Any bytes on any topic decode to an event or to SchemaDecodeError, and every dead letter fits."""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest

from schemas.codec import decode, encode, encode_for
from schemas.deadletters import MAX_DEAD_LETTER_BYTES, DeadLetter, dead_letter, dead_letter_for
from schemas.envelope import Event
from schemas.examples import example_events
from schemas.exceptions import SchemaDecodeError
from schemas.topics import CATALOGUE, DEAD_LETTERS

OVERFLOWING = ("9999-12-31T23:59:59-01:00", "0001-01-01T00:00:00+01:00")


def _timestamp_fields(event: Event) -> list[str]:
    return [name for name, value in event.model_dump().items() if isinstance(value, datetime)]


CASES = [
    (event, name, stamp)
    for event in example_events()
    for name in _timestamp_fields(event)
    for stamp in OVERFLOWING
]


def test_every_topic_has_an_event_with_timestamps_to_poison() -> None:
    poisoned = {type(event) for event, _, _ in CASES}
    for spec in CATALOGUE:
        assert any(issubclass(cls, spec.event_classes()) for cls in poisoned), spec.name


@pytest.mark.parametrize(("event", "field", "stamp"), CASES, ids=lambda v: getattr(v, "event_type", str(v)))
def test_an_overflowing_timestamp_is_a_decode_error(event: Event, field: str, stamp: str) -> None:
    body = json.loads(event.model_dump_json())
    body[field] = stamp
    with pytest.raises(SchemaDecodeError, match=f"{field}.*(out of range|must fall in the years)"):
        decode(json.dumps(body).encode(), expected=None)


def test_random_bytes_only_ever_raise_the_codecs_error() -> None:
    rng = random.Random(14)
    samples = [bytes(rng.randrange(256) for _ in range(rng.randrange(1, 200))) for _ in range(300)]
    samples += [b"[" * 100_000, b'{"a":' * 50_000, b"\xff\xfe", b"1e999999", b'"\\ud800"']
    for sample in samples:
        with pytest.raises(SchemaDecodeError):
            decode(sample)


def test_a_non_schema_error_inside_decode_is_wrapped(monkeypatch: pytest.MonkeyPatch) -> None:
    import schemas.codec as codec

    def explode(*_args: Any, **_kwargs: Any) -> Any:
        raise OverflowError("date value out of range")

    monkeypatch.setattr(codec, "upgrade_to_latest", explode)
    _, value, headers = encode(example_events()[0])
    with pytest.raises(SchemaDecodeError, match="OverflowError: date value out of range") as caught:
        decode(value, headers)
    assert caught.value.raw == value


@pytest.mark.parametrize("size", [750_000, 900_000, 5_000_000])
def test_an_oversized_payload_gives_a_dead_letter_that_fits(size: int) -> None:
    raw = random.Random(size).randbytes(size)
    letter = dead_letter(raw, "not JSON", "predictions.requests", source="test")
    _, value, _ = encode_for(letter, DEAD_LETTERS)
    assert len(value) <= MAX_DEAD_LETTER_BYTES
    back = decode(value, expected=DeadLetter)
    assert back.truncated and back.raw_size == size
    assert back.raw_sha256 == hashlib.sha256(raw).hexdigest()
    assert raw.startswith(back.raw_value()) and len(back.raw_value()) > 500_000


def test_a_small_payload_is_kept_whole_with_its_digest() -> None:
    letter = dead_letter(b"{bad", "why", "t", source="test")
    assert not letter.truncated and letter.raw_value() == b"{bad" and letter.raw_size == 4
    assert letter.raw_sha256 == hashlib.sha256(b"{bad").hexdigest()


def test_huge_headers_key_and_reason_are_cut_too() -> None:
    letter = dead_letter(
        b"x",
        "r" * 100_000,
        "t",
        source="test",
        key=b"k" * 500_000,
        headers=[("trace_id", "tr"), ("big", b"h" * 800_000)],
    )
    _, value, _ = encode_for(letter, DEAD_LETTERS)
    assert len(value) <= MAX_DEAD_LETTER_BYTES and letter.truncated and letter.trace_id == "tr"


@dataclass
class ConfluentLike:
    """confluent-kafka's Message shape: methods."""

    _value: bytes

    def value(self) -> bytes:
        return self._value

    def topic(self) -> str:
        return "players.records"

    def partition(self) -> int:
        return 2

    def offset(self) -> int:
        return 41

    def key(self) -> bytes:
        return b"p-1"

    def headers(self) -> list[tuple[str, bytes]]:
        return [("trace_id", b"trace-7"), ("event_type", b"PlayerRecord")]


@dataclass
class AttributeLike:
    """aiokafka's ConsumerRecord and Faust's Message shape: attributes."""

    value: bytes
    topic: str = "players.records"
    partition: int = 2
    offset: int = 41
    key: bytes = b"p-1"
    headers: tuple[tuple[str, bytes], ...] = (("trace_id", b"trace-7"), ("event_type", b"PlayerRecord"))


@pytest.mark.parametrize(
    "message", [ConfluentLike(b"{bad"), AttributeLike(b"{bad")], ids=["methods", "attributes"]
)
def test_dead_letter_for_keeps_position_key_headers_and_trace(message: object) -> None:
    letter = dead_letter_for(message, "not JSON", source="test", error_type="SchemaDecodeError")
    assert (letter.source_topic, letter.partition, letter.offset) == ("players.records", 2, 41)
    assert letter.raw_key() == b"p-1" and letter.raw_value() == b"{bad"
    assert letter.trace_id == "trace-7" and letter.headers["event_type"] == "PlayerRecord"
