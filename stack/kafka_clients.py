"""confluent-kafka client factories with the project's delivery guarantees."""

from __future__ import annotations

from typing import Any

from confluent_kafka import Consumer, Producer

from stack.settings import Settings


def producer_config(settings: Settings, **overrides: Any) -> dict[str, Any]:
    # Idempotence with acks=all: no duplicates or reordering from retries within a partition.
    config: dict[str, Any] = {
        "bootstrap.servers": settings.kafka_bootstrap_servers,
        "enable.idempotence": True,
        "acks": "all",
        "linger.ms": 5,
        "compression.type": "lz4",
    }
    config.update(overrides)
    return config


def make_producer(settings: Settings, **overrides: Any) -> Producer:
    return Producer(producer_config(settings, **overrides))


def make_consumer(settings: Settings, group_id: str, **overrides: Any) -> Consumer:
    # Offsets are committed by the caller after processing (commit after success).
    config: dict[str, Any] = {
        "bootstrap.servers": settings.kafka_bootstrap_servers,
        "group.id": group_id,
        "enable.auto.commit": False,
        "auto.offset.reset": "earliest",
        "isolation.level": "read_committed",
    }
    config.update(overrides)
    return Consumer(config)
