"""The shared consume loop with fake clients: dead letters, retries, commit after success."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import pytest
from confluent_kafka import KafkaError, KafkaException

from schemas.codec import decode, encode
from schemas.deadletters import DeadLetter
from schemas.examples import example_of
from schemas.records import PlayerRecord
from stack.consume_loop import Backoff, ConsumeLoop, expecting
from stack.dead_letters import DeadLetters
from stack.exceptions import TransientError


@dataclass
class Msg:
    _value: bytes | None
    _offset: int
    _error: KafkaError | None = None

    def value(self) -> bytes | None:
        return self._value

    def topic(self) -> str:
        return "players.records"

    def partition(self) -> int:
        return 0

    def offset(self) -> int:
        return self._offset

    def key(self) -> bytes:
        return b"k"

    def headers(self) -> list[tuple[str, bytes]]:
        return [("trace_id", b"trace-x")]

    def error(self) -> KafkaError | None:
        return self._error


@dataclass
class Consumer:
    batches: list[list[Msg]]
    log: list[str]

    def subscribe(self, topics: list[str]) -> None:
        self.log.append("subscribe")

    def consume(self, num_messages: int, timeout: float) -> list[Msg]:
        return self.batches.pop(0) if self.batches else []

    def commit(self, asynchronous: bool) -> None:
        self.log.append("commit")

    def close(self) -> None:
        self.log.append("close")


@dataclass
class Producer:
    log: list[str]
    refuse: bool = False
    sent: list[bytes] = field(default_factory=list)

    def produce(self, topic: str, key: Any, value: bytes, headers: Any, on_delivery: Any) -> None:
        if self.refuse:
            raise KafkaException(KafkaError(KafkaError.MSG_SIZE_TOO_LARGE))
        self.sent.append(value)
        self.log.append("dead letter")

    def flush(self, timeout: float) -> int:
        return 0

    def poll(self, timeout: float) -> int:
        return 0


def _record(offset: int) -> Msg:
    _, value, _ = encode(example_of(PlayerRecord, player_id=f"p{offset}"))
    return Msg(value, offset)


def _loop(
    batches: list[list[Msg]], handle: Any, finish: Any = None, refuse: bool = False
) -> ConsumeLoop[PlayerRecord]:
    log: list[str] = []
    consumer, producer = Consumer(batches, log), Producer(log, refuse)
    return ConsumeLoop(
        consumer=consumer,  # type: ignore[arg-type]
        dead_letters=DeadLetters(producer, "deadletters", "test"),  # type: ignore[arg-type]
        decode=expecting(PlayerRecord),
        handle=handle,
        finish=finish or (lambda: log.append("finish")),
        backoff=Backoff(first_s=0.001, most_s=0.001),
    )


def _letters(loop: ConsumeLoop[Any]) -> list[DeadLetter]:
    return [decode(v, expected=DeadLetter) for v in loop.dead_letters.producer.sent]  # type: ignore[attr-defined]


def test_bad_bytes_and_failing_handles_are_dead_lettered_and_the_rest_handled() -> None:
    handled: list[str] = []

    def handle(_m: Msg, record: PlayerRecord) -> None:
        if record.player_id == "p2":
            raise ValueError("cannot apply p2")
        handled.append(record.player_id)

    loop = _loop([[_record(0), Msg(b"{nope", 1), _record(2), _record(3)]], handle)
    assert loop.step() == 4
    assert handled == ["p0", "p3"]
    letters = _letters(loop)
    assert [(x.offset, x.error_type, x.trace_id) for x in letters] == [
        (1, "SchemaDecodeError", "trace-x"),
        (2, "ValueError", "trace-x"),
    ]
    assert "cannot apply p2" in letters[1].reason
    assert loop.consumer.log[-2:] == ["finish", "commit"]  # type: ignore[attr-defined]


def test_a_refused_dead_letter_does_not_stop_the_messages_after_it() -> None:
    handled: list[str] = []
    loop = _loop([[Msg(b"{nope", 0), _record(1)]], lambda _m, r: handled.append(r.player_id), refuse=True)
    assert loop.step() == 2
    assert handled == ["p1"] and loop.dead_letters.lost == 1
    assert loop.consumer.log[-1] == "commit"  # type: ignore[attr-defined]


def test_a_transient_error_is_retried_on_the_same_message_until_it_passes() -> None:
    attempts: list[str] = []

    def handle(_m: Msg, record: PlayerRecord) -> None:
        attempts.append(record.player_id)
        if len(attempts) < 3:
            raise ConnectionError("redis away")

    loop = _loop([[_record(0), _record(1)]], handle)
    assert loop.step(threading.Event()) == 2
    assert attempts == ["p0", "p0", "p0", "p1"] and _letters(loop) == []


def test_nothing_is_committed_while_finishing_the_batch_fails() -> None:
    calls: list[int] = []

    def finish() -> None:
        calls.append(1)
        if len(calls) < 3:
            raise TransientError("broker away")

    loop = _loop([[_record(0)]], lambda _m, _r: None, finish=finish)
    with pytest.raises(TransientError):
        loop.step()  # without a stop event: one attempt, the outage surfaces
    assert "commit" not in loop.consumer.log  # type: ignore[attr-defined]
    loop.consumer.batches.append([_record(1)])  # type: ignore[attr-defined]
    assert loop.step(threading.Event()) == 1 and len(calls) == 3
    assert loop.consumer.log[-1] == "commit"  # type: ignore[attr-defined]


def test_client_errors_are_skipped_and_fatal_ones_raise() -> None:
    transient = Msg(None, 0, KafkaError(KafkaError._TRANSPORT))
    loop = _loop([[transient, _record(1)]], lambda _m, _r: None)
    assert loop.step() == 1
    fatal = Msg(None, 0, KafkaError(KafkaError._FATAL, fatal=True))
    loop.consumer.batches.append([fatal])  # type: ignore[attr-defined]
    with pytest.raises(KafkaException):
        loop.step()


def test_run_stops_on_the_event_and_closes() -> None:
    loop = _loop([], lambda _m, _r: None)
    stop = threading.Event()
    stop.set()
    loop.run(["players.records"], stop)
    assert loop.consumer.log == ["subscribe", "close"]  # type: ignore[attr-defined]


def test_idle_work_runs_after_an_empty_poll_only_and_commits_nothing() -> None:
    loop = _loop([[_record(0)], []], lambda _m, _r: None)
    loop.idle = lambda: loop.consumer.log.append("idle")  # type: ignore[attr-defined]
    assert loop.step() == 1
    assert loop.step() == 0
    assert loop.consumer.log == ["finish", "commit", "idle"]  # type: ignore[attr-defined]
