"""The retrainer's history on the real broker: a long-lived reader returns what a fresh full
read returns, in the same order, while fetching only what was published since its last read."""

from __future__ import annotations

import pytest

from producers.ingest import transfer_events
from producers.publisher import KafkaPublisher
from producers.synthetic import generate
from retrainer.history import HistoryReader, read_history
from schemas.records import TransferCompleted
from stack.kafka_clients import make_producer
from stack.settings import Settings

pytestmark = pytest.mark.integration


def _publish(settings: Settings, events: list) -> None:  # type: ignore[type-arg]
    publisher = KafkaPublisher(settings, make_producer(settings))
    for spec, event in transfer_events(events, as_requests=False):
        publisher.publish(spec, event)
    publisher.close()


def test_a_second_read_fetches_only_the_new_transfers(settings: Settings) -> None:
    events = list(generate(11, range(2010, 2014), 60))
    seasons = sorted({e.season for e in events if isinstance(e, TransferCompleted)})
    cut = next(
        i for i, e in enumerate(events) if isinstance(e, TransferCompleted) and e.season == seasons[-1]
    )
    first, rest = events[:cut], events[cut:]
    reader = HistoryReader(settings)
    _publish(settings, first)  # (the producer waits for the fresh topics' leaders)
    read_once, bad = reader.read()
    assert bad == 0 and read_once == read_history(settings)[0]
    offsets = dict(reader._transfers.next_offsets)
    assert sum(offsets.values()) == sum(isinstance(e, TransferCompleted) for e in first)

    _publish(settings, rest)
    read_twice, bad = reader.read()
    assert bad == 0 and read_twice == read_history(settings)[0]
    assert len(read_twice) == sum(isinstance(e, TransferCompleted) for e in events) > len(read_once)
    # The second read started where the first ended: no message decoded twice.
    assert len(reader._transfers.events) == len(read_twice)
    assert all(reader._transfers.next_offsets[p] >= end for p, end in offsets.items())
