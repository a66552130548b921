"""Tail a topic and hand each decoded message (optionally filtered) to a printer.

No consumer group: a subscriber never steals partitions from a service, commits nothing,
and starts at the end of each partition (or the beginning) every time it runs.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from confluent_kafka import TopicPartition

from consumers.messages import Shown, show, spec_named
from stack.settings import Settings
from stack.topic_offsets import groupless_consumer, partitions_of, watermarks


@dataclass(frozen=True)
class Filter:
    """FIELD=VALUE: the event's field (dotted path) printed as text equals VALUE."""

    field: str
    value: str

    @classmethod
    def parse(cls, text: str) -> Filter:
        name, sep, value = text.partition("=")
        if not sep or not name.strip():
            raise ValueError(f"filter {text!r} is not FIELD=VALUE")
        return cls(name.strip(), value)

    def matches(self, shown: Shown) -> bool:
        found = shown.field(self.field)
        if found is None:
            return False
        if isinstance(found, bool):
            return str(found).lower() == self.value.lower()
        return str(found) == self.value


def follow(
    settings: Settings,
    name: str,
    on_message: Callable[[Shown], None],
    *,
    from_beginning: bool = False,
    filters: Sequence[Filter] = (),
    max_messages: int | None = None,
    idle_timeout_s: float | None = None,
) -> int:
    """Read catalogue topic ``name`` until ``max_messages`` matched or ``idle_timeout_s`` passed
    without any message (both optional: else until interrupted); returns how many matched."""
    topic = settings.topic(spec_named(name).name)
    consumer = groupless_consumer(settings)
    matched = 0
    try:
        assignment = []
        for partition in partitions_of(consumer, topic):
            low, high = watermarks(consumer, topic, partition)
            assignment.append(TopicPartition(topic, partition, low if from_beginning else high))
        consumer.assign(assignment)
        last_seen = time.monotonic()
        while max_messages is None or matched < max_messages:
            first = consumer.poll(0.2)  # returns at the first message: tails without delay
            messages = [] if first is None else [first, *consumer.consume(num_messages=99, timeout=0)]
            if messages:
                last_seen = time.monotonic()
            elif idle_timeout_s is not None and time.monotonic() - last_seen > idle_timeout_s:
                break
            for message in messages:
                if message.error() is not None:
                    continue
                shown = show(message, settings.topic_prefix)
                if all(f.matches(shown) for f in filters):
                    on_message(shown)
                    matched += 1
                    if max_messages is not None and matched >= max_messages:
                        break
    finally:
        consumer.close()
    return matched
