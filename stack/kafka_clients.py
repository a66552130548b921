"""confluent-kafka client factories with the project's delivery guarantees."""

from __future__ import annotations

import logging
from typing import Any

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer
from confluent_kafka.admin import AdminClient

from stack.kafka_connection import KafkaConnection, kafka_connection
from stack.settings import Settings

log = logging.getLogger(__name__)


def producer_config(settings: Settings, **overrides: Any) -> dict[str, Any]:
    # Idempotence with acks=all: no duplicates or reordering from retries within a partition.
    config: dict[str, Any] = kafka_connection(settings).confluent()
    config |= {
        "enable.idempotence": True,
        "acks": "all",
        "linger.ms": 5,
        "compression.type": "lz4",
    }
    config.update(overrides)
    return config


def make_producer(settings: Settings, connect_timeout_s: float = 1.0, **overrides: Any) -> Producer:
    producer = Producer(producer_config(settings, **overrides))
    connect(producer, connect_timeout_s)
    return producer


def connect(producer: Producer, timeout_s: float) -> bool:
    """Connect to a broker now; False (and no error) when none answers within ``timeout_s``.

    An idempotent producer asks for its producer id as it starts; with no broker connected yet
    it retries on a 500 ms timer, so the first messages of a fresh producer waited half a
    second (measured: 504 ms, 1 ms after this metadata request). It still happens now and then
    when the broker answers the id request with a retriable error (COORDINATOR_LOAD_IN_PROGRESS):
    one more 500 ms for the first messages of that process, which only a delivered message rules
    out (bench/harness.warmed_producer does that for measurements).
    """
    try:
        producer.list_topics(timeout=timeout_s)
    except KafkaException:
        return False
    return True


def make_consumer(settings: Settings, group_id: str, **overrides: Any) -> Consumer:
    # Offsets are committed by the caller after processing (commit after success).
    config: dict[str, Any] = kafka_connection(settings).confluent()
    config |= {
        "group.id": group_id,
        "enable.auto.commit": False,
        "auto.offset.reset": "earliest",
        "isolation.level": "read_committed",
    }
    config.update(overrides)
    return Consumer(config)


def make_admin(settings: Settings, **overrides: Any) -> AdminClient:
    return AdminClient(kafka_connection(settings).confluent(**overrides))


def metadata_ok(connection: KafkaConnection | Settings, timeout: float = 2.0) -> bool:
    return kafka_refusal(connection, timeout) is None


def kafka_refusal(connection: KafkaConnection | Settings, timeout: float = 2.0) -> str | None:
    """None when a metadata request names a broker; else why not, naming the setting to fix.

    Quiet on purpose: readiness polls expect refused connections while a broker starts.
    """
    if isinstance(connection, Settings):
        connection = kafka_connection(connection)
    seen: list[KafkaError] = []
    config = connection.confluent(
        **{
            "socket.connection.setup.timeout.ms": 1000,
            "log_level": 0,
            "logger": _SILENT,
            "error_cb": seen.append,
        }
    )
    admin = AdminClient(config)
    try:
        if len(admin.list_topics(timeout=timeout).brokers) > 0:
            return None
    except KafkaException as exc:
        seen.append(exc.args[0])
    except Exception as exc:  # noqa: BLE001 - any other failure also means "not ready"
        log.debug("metadata request failed: %r", exc)
    admin.poll(0.1)  # serve the error callbacks of the attempt
    for error in seen:
        hint = connection.refusal_hint(error) if isinstance(error, KafkaError) else None
        if hint is not None:
            return hint
    return f"Kafka does not answer at {connection.bootstrap_servers} (MLOPS_FC_KAFKA_BOOTSTRAP_SERVERS)"


class _SilentLogger:
    """librdkafka logs every refused connection while we poll readiness; keep them quiet."""

    def log(self, *args: object) -> None:
        return None


_SILENT = _SilentLogger()
