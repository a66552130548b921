"""Create the topic catalogue idempotently and describe what the broker holds."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from confluent_kafka import KafkaException
from confluent_kafka.admin import ConfigResource, NewPartitions, NewTopic

from schemas.topics import CATALOGUE, TopicSpec
from stack.kafka_clients import make_admin
from stack.settings import Settings


@dataclass(frozen=True)
class TopicOutcome:
    name: str
    action: str  # "created", "exists", "updated"
    partitions: int


def ensure_topics(
    settings: Settings, specs: Iterable[TopicSpec] = CATALOGUE, timeout: float = 30.0
) -> list[TopicOutcome]:
    """Create missing topics, grow partitions and align configs of existing ones."""
    admin = make_admin(settings)
    existing = admin.list_topics(timeout=timeout).topics
    wanted = {settings.topic(spec.name): spec for spec in specs}
    outcomes: list[TopicOutcome] = []

    missing = [
        NewTopic(
            name, num_partitions=_partitions(spec, settings), replication_factor=1, config=spec.configs()
        )
        for name, spec in wanted.items()
        if name not in existing
    ]
    if missing:
        for name, future in admin.create_topics(missing, request_timeout=timeout).items():
            try:
                future.result()
            except KafkaException as exc:
                # Another process may have created it between our list and create: fine.
                if exc.args[0].name() != "TOPIC_ALREADY_EXISTS":
                    raise
            outcomes.append(TopicOutcome(name, "created", _partitions(wanted[name], settings)))

    for name, spec in wanted.items():
        if name not in existing:
            continue
        action = "exists"
        have = len(existing[name].partitions)
        want = _partitions(spec, settings)
        if want > have:
            admin.create_partitions([NewPartitions(name, want)])[name].result()
            action = "updated"
        resource = ConfigResource(ConfigResource.Type.TOPIC, name)
        current = admin.describe_configs([resource])[resource].result()
        if any(current[k].value != v for k, v in spec.configs().items() if k in current):
            admin.alter_configs([ConfigResource(ConfigResource.Type.TOPIC, name, set_config=spec.configs())])[
                resource
            ].result()
            action = "updated"
        outcomes.append(TopicOutcome(name, action, max(want, have)))
    return sorted(outcomes, key=lambda o: o.name)


def _partitions(spec: TopicSpec, settings: Settings) -> int:
    return spec.partitions or settings.topic_partitions
