"""Ingest plans and summaries with the in-memory publisher: order, keys, requests, dead letters."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from producers.ingest import ingest_csv, ingest_synthetic, transfer_events
from producers.publisher import MemoryPublisher, RateLimiter
from producers.synthetic import generate
from schemas.codec import decode
from schemas.deadletters import DeadLetter
from schemas.predictions import PredictionRequest
from schemas.records import TransferCompleted
from stack.settings import Settings
from tests.producer_samples import BAD, CHAMPIONSHIP, DUPLICATES, PAID, PL, ROWS_READ, TRANSFERS, write_csv


@pytest.fixture
def files(tmp_path: Path) -> list[Path]:
    return [write_csv(tmp_path / "pl.csv", PL, BAD), write_csv(tmp_path / "championship.csv", CHAMPIONSHIP)]


def test_csv_ingest_publishes_dead_letters_then_records_requests_and_transfers(files: list[Path]) -> None:
    publisher = MemoryPublisher()
    summary = ingest_csv(Settings(), files, as_requests=True, publisher=publisher)
    assert publisher.closed
    assert (summary.rows_read, summary.duplicates_removed, summary.transfers) == (
        ROWS_READ,
        DUPLICATES,
        TRANSFERS,
    )
    assert summary.dead_lettered == len(BAD) and summary.requests == PAID
    assert dict(summary.published) == {
        "deadletters": len(BAD),
        "players.records": TRANSFERS,
        "predictions.requests": PAID,
        "transfers.completed": TRANSFERS,
    }
    topics = [topic for topic, *_ in publisher.messages]
    assert topics[: len(BAD)] == ["deadletters"] * len(BAD)

    letters = [
        decode(value, headers, expected=DeadLetter) for _, _, value, headers in publisher.messages[: len(BAD)]
    ]
    assert [base64.b64decode(letter.raw_value_b64) for letter in letters] == [line.encode() for line in BAD]
    assert all(letter.reason and letter.error_type == "CsvRowError" for letter in letters)
    assert {key for _, key, *_ in publisher.messages[: len(BAD)]} == {b"csv:pl.csv"}

    pending_request: PredictionRequest | None = None
    for topic, key, value, headers in publisher.messages[len(BAD) :]:
        event = decode(value, headers)
        assert key == event.player_id.encode()  # type: ignore[attr-defined]
        if topic == "predictions.requests":
            assert isinstance(event, PredictionRequest)
            pending_request = event
        elif topic == "transfers.completed":
            assert isinstance(event, TransferCompleted)
            if event.fee_eur_m > 0:
                # The replay's question comes just before its answer, asked at the same time.
                assert pending_request is not None and pending_request.transfer_id == event.transfer_id
                assert pending_request.request_id == f"replay-{event.transfer_id}"
                assert pending_request.requested_at == event.transferred_at
            pending_request = None


def test_without_requests_only_records_and_transfers(files: list[Path]) -> None:
    summary = ingest_csv(Settings(), files, publisher=MemoryPublisher())
    assert summary.requests == 0 and "predictions.requests" not in summary.published
    assert summary.as_dict()["published"] == {
        "deadletters": 3,
        "players.records": 12,
        "transfers.completed": 12,
    }


def test_synthetic_ingest_is_the_generator_published(files: list[Path]) -> None:
    publisher = MemoryPublisher()
    summary = ingest_synthetic(
        Settings(), seed=4, seasons=range(2000, 2002), per_season=50, publisher=publisher
    )
    assert summary.transfers == 100 and summary.events_published == 200
    assert [decode(value) for _, _, value, _ in publisher.messages] == list(
        generate(4, range(2000, 2002), 50)
    )


def test_requests_only_for_paid_transfers() -> None:
    events = list(generate(9, [2001], 100))
    planned = list(transfer_events(events, as_requests=True))
    requests = [e for spec, e in planned if spec.name == "predictions.requests"]
    paid = [e for e in events if isinstance(e, TransferCompleted) and e.fee_eur_m > 0]
    assert [r.transfer_id for r in requests] == [t.transfer_id for t in paid]  # type: ignore[attr-defined]


def test_interrupt_flushes_and_marks_the_summary(files: list[Path]) -> None:
    class Interrupting(MemoryPublisher):
        def publish(self, spec, event):  # type: ignore[no-untyped-def]
            if len(self.messages) == 5:
                raise KeyboardInterrupt
            super().publish(spec, event)

    publisher = Interrupting()
    summary = ingest_csv(Settings(), files, publisher=publisher)
    assert summary.interrupted and publisher.closed
    assert summary.events_published == 5 < summary.planned


def test_rate_limiter_spaces_events_without_sleeping_in_tests() -> None:
    now = [100.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    limiter = RateLimiter(10.0, clock=lambda: now[0], sleep=sleep)
    for _ in range(5):
        limiter.wait()
    assert now[0] == pytest.approx(100.4)
    RateLimiter(None, sleep=slept.append).wait()  # no limit: never sleeps
    assert len(slept) == 4
    with pytest.raises(ValueError):
        RateLimiter(0)
