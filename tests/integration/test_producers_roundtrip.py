"""Every event type through the real broker with the producers' publisher and the codec."""

from __future__ import annotations

import pytest

from producers.publisher import KafkaPublisher
from schemas.codec import decode, header, key_for
from schemas.examples import example_events
from schemas.topics import CATALOGUE
from stack.settings import Settings
from tests.producer_kafka import read_to_end

pytestmark = pytest.mark.integration


def test_every_event_type_round_trips_on_its_topic(settings: Settings) -> None:
    events = example_events()
    publisher = KafkaPublisher(settings)
    sent: dict[str, list[tuple[bytes, object]]] = {}
    for event in events:
        spec = next(spec for spec in CATALOGUE if spec.accepts(event))
        publisher.publish(spec, event)
        sent.setdefault(spec.name, []).append((key_for(event, spec).encode(), event))
    publisher.close()
    assert sum(publisher.delivered.values()) == len(events)

    for name, expected in sent.items():
        messages = read_to_end(settings, name)
        received = [(m.key(), decode(m.value(), m.headers(), upgrade=False)) for m in messages]
        # One partition per key: compare as sets of (key, event), the order across keys is free.
        assert sorted(received, key=repr) == sorted(expected, key=repr)
        for message in messages:
            event = decode(message.value(), message.headers(), upgrade=False)
            assert header(message.headers(), "event_type") == event.event_type
            assert header(message.headers(), "trace_id") == event.trace_id
