"""The request pipeline with fakes around it: one result per request, dead letters with reasons."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from faust.types import TP

from inference.dead_letters import DeadLetters
from inference.metrics import WorkerMetrics
from inference.model_holder import ModelHolder
from inference.pipeline import RequestPipeline
from inference.player_state import PlayerStates
from inference.transfers_view import TransfersView
from modelstore.memory import InMemoryModelStore
from schemas.codec import Headers, decode, encode
from schemas.deadletters import DeadLetter
from schemas.predictions import PredictionRequest, PredictionResult
from stack.async_producer import OutgoingMessage

TOPIC = "requests"


@dataclass
class Message:
    offset: int
    value: bytes | None
    headers: Any
    topic: str = TOPIC
    partition: int = 0
    timestamp: float = 1_700_000_000.0
    key: bytes | None = b"p1"


class Delivered:
    """A producer whose messages the broker confirms at once."""

    def __init__(self) -> None:
        self.sent: list[OutgoingMessage] = []

    def produce_all(self, messages: Sequence[OutgoingMessage]) -> asyncio.Future[None]:
        self.sent.extend(messages)
        future = asyncio.get_running_loop().create_future()
        future.set_result(None)
        return future


class Offsets:
    def __init__(self) -> None:
        self.confirmed_offsets: list[dict[TP, list[int]]] = []

    async def already_answered(self, message: Message) -> bool:
        return message.offset == 99  # a repeat read again after a seek

    async def confirmed(self, offsets: dict[TP, list[int]]) -> None:
        self.confirmed_offsets.append(offsets)


class NoWait:
    async def wait(self, partitions: set[int]) -> None:
        return None


def request_message(offset: int, header_version: str | None = None) -> Message:
    request = PredictionRequest(
        source="test",
        request_id=f"r{offset}",
        player_id="p1",
        position="Centre-Back",
        from_club="A",
        to_club="B",
        season=2024,
        window="summer",
        requested_at=datetime(2024, 7, 1, tzinfo=UTC),
    )
    _, value, headers = encode(request, key=request.player_id)
    if header_version is not None:
        headers = [(k, header_version.encode() if k == "schema_version" else v) for k, v in headers]
    return Message(offset, value, headers)


def run_batch(messages: list[Message]) -> tuple[list[PredictionResult], list[DeadLetter], Offsets]:
    letters: list[DeadLetter] = []

    async def send(key: bytes | None, value: bytes, headers: Headers) -> None:
        letters.append(decode(value, headers, expected=DeadLetter))

    async def scenario() -> tuple[list[PredictionResult], Offsets]:
        metrics = WorkerMetrics("unit")
        dead_letters = DeadLetters(send, "inference-worker/unit", metrics, lambda topic: topic)
        producer, offsets = Delivered(), Offsets()
        pipeline = RequestPipeline(
            ModelHolder(InMemoryModelStore(), "transfer-fee", b"key"),  # no model published
            PlayerStates({}, dead_letters),
            TransfersView("transfers", reader=lambda: None, offsets_reader=lambda: None),  # type: ignore[arg-type, return-value]
            NoWait(),  # type: ignore[arg-type]
            offsets,  # type: ignore[arg-type]
            dead_letters,
            producer,
            metrics,
            results_topic="results",
            source="inference-worker/unit",
            no_model_wait_s=0.0,
        )
        pipeline.scoring = False
        await pipeline.score(messages)  # type: ignore[arg-type]
        await pipeline.drain()
        assert not pipeline.busy()
        results = [
            decode(value, headers, expected=PredictionResult) for _, _, value, headers in producer.sent
        ]
        return results, offsets

    results, offsets = asyncio.run(scenario())
    return results, letters, offsets


def test_every_request_gets_one_result_and_every_offset_is_confirmed_dead_letters_included() -> None:
    results, letters, offsets = run_batch(
        [
            request_message(0),
            Message(1, b"{oops", [("trace_id", b"t-1")]),
            request_message(2),
            request_message(99),
        ]
    )
    assert [r.request_id for r in results] == ["r0", "r2"]  # 99 was answered before: not again
    assert {r.status for r in results} == {"no_model"} and {r.source for r in results} == {
        "inference-worker/unit"
    }
    (letter,) = letters
    assert letter.offset == 1 and letter.error_type == "SchemaDecodeError"
    assert letter.trace_id == "t-1"  # the message's headers travel with its dead letter
    assert base64.b64decode(letter.raw_value_b64) == b"{oops"
    assert offsets.confirmed_offsets == [{TP(TOPIC, 0): [0, 1, 2]}]


def test_a_version_header_that_contradicts_the_body_is_dead_lettered_with_the_reason() -> None:
    body_version = json.loads(request_message(0).value or b"{}")["schema_version"]
    results, letters, offsets = run_batch([request_message(0, header_version="1"), request_message(1)])
    assert [r.request_id for r in results] == ["r1"]
    (letter,) = letters
    assert letter.reason == f"schema_version: header says '1', body '{body_version}'"
    assert letter.source_topic == TOPIC and letter.offset == 0
    assert offsets.confirmed_offsets == [{TP(TOPIC, 0): [0, 1]}]
