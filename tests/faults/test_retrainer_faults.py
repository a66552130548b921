"""The retrainer and promotion under faults, each on a private real stack (Kafka, Redis, MLflow).

- a retrain longer than the lock's TTL: the lock is renewed, one outcome, the retrainer lives;
- Redis stopped while a retrain request arrives: retried with backoff, handled once it is back;
- the MLflow store locked while a retrain request arrives: the same, and nothing dead-lettered;
- a tampered MLflow artifact promoted through the API: 409, and nothing moved.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from urllib.parse import unquote, urlparse

from confluent_kafka import KafkaException, TopicPartition
from mlflow import MlflowClient

from devstack.local import LocalStack
from devstack.services import Service, start_service
from modelstore.lifecycle import Registry
from modelstore.mlflow_registry import BLOB_DIR, BLOB_FILE, TAG_SHA256, champion_version, list_versions
from modelstore.redis_cache import ModelCache
from modelstore.signing import blob_sha256, load_artifact
from retrainer.initial import train_initial
from schemas.codec import decode
from schemas.commands import RetrainRequested
from schemas.envelope import Event
from schemas.lifecycle import ModelPromoted, ModelRegistered, ModelRejected
from schemas.topics import DEAD_LETTERS, MODELS_LIFECYCLE, MONITORING_DRIFT, TRANSFERS_COMPLETED, TopicSpec
from stack.kafka_clients import make_consumer, make_producer
from stack.redis_clients import redis_client
from stack.settings import Settings
from tests.api_helpers import API_KEY, running_api, wait_until
from tests.flow_helpers import history, publish

TIMEOUT = 300.0
HISTORY = history(1200)
Stack = tuple[LocalStack, Settings]


def all_events(settings: Settings, spec: TopicSpec) -> list[Event]:
    """Every event on the topic up to its current end (a group-less read)."""
    topic = settings.topic(spec.name)
    consumer = make_consumer(settings, group_id=f"{settings.topic_prefix}fault-reader")
    try:
        partitions = sorted(consumer.list_topics(topic, timeout=30).topics[topic].partitions)
        ends = {
            p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=30)[1] for p in partitions
        }
        consumer.assign([TopicPartition(topic, p, 0) for p in partitions])
        pending = {p for p, end in ends.items() if end > 0}
        events: list[Event] = []
        while pending:
            for message in consumer.consume(num_messages=500, timeout=1.0):
                assert message.error() is None, message.error()
                events.append(decode(message.value()))
                if (message.offset() or 0) + 1 >= ends[message.partition() or 0]:
                    pending.discard(message.partition() or 0)
        return events
    finally:
        consumer.close()


def request_retrain(settings: Settings) -> RetrainRequested:
    command = RetrainRequested(
        source="test", model_name=settings.model_name, requested_by="faults", reason="test"
    )
    publish(settings, MONITORING_DRIFT, [command])
    return command


def handled(settings: Settings, count: int) -> bool:
    """The retrainer committed ``count`` triggers: it has an outcome for each.

    Read with a consumer of the retrainer's group that never subscribes (so never joins it):
    an AdminClient dropped with a request in flight can crash librdkafka.
    """
    group = f"{settings.topic_prefix}mlops-fc-retrainer"
    consumer = make_consumer(settings, group_id=group)
    try:
        (committed,) = consumer.committed(
            [TopicPartition(settings.topic(MONITORING_DRIFT.name), 0)], timeout=20
        )
    except KafkaException:  # a busy broker's group coordinator: ask again
        return False
    finally:
        consumer.close()
    return committed.offset == count


def outcomes(settings: Settings) -> list[Event]:
    return [e for e in all_events(settings, MODELS_LIFECYCLE) if isinstance(e, ModelPromoted | ModelRejected)]


def wait_handled(settings: Settings, retrainer: Service, count: int) -> None:
    def done() -> bool:
        assert retrainer.alive(), f"the retrainer exited:\n{retrainer.log_tail()}"
        return handled(settings, count)

    assert wait_until(done, TIMEOUT, interval=2.0), retrainer.log_tail()


def test_a_retrain_longer_than_the_lock_ttl_keeps_its_lock_and_publishes_one_outcome(
    private_stack: Stack,
) -> None:
    _stack, settings = private_stack
    settings = settings.model_copy(update={"retrain_lock_ttl_s": 2.0})
    publish(settings, TRANSFERS_COMPLETED, HISTORY)
    retrainer = start_service(settings, "retrainer", "retrainer")
    try:
        request_retrain(settings)
        wait_handled(settings, retrainer, 1)
        # A second request proves the loop goes on (nothing new to learn: skipped, committed).
        request_retrain(settings)
        wait_handled(settings, retrainer, 2)
        assert retrainer.alive(), retrainer.log_tail()
    finally:
        retrainer.stop()
    decided = outcomes(settings)
    assert [(type(e).__name__, getattr(e, "version", None)) for e in decided] == [("ModelPromoted", "1")]
    client = MlflowClient(settings.mlflow_uri)
    (version,) = list_versions(client, settings.model_name)
    # The scenario held: the attempt that published trained for longer than the lock's TTL,
    # and its lock was proven ours before registering, so it was renewed (on a starved CPU an
    # earlier attempt may lose it: that one publishes nothing and is retried).
    assert version.metrics["train_seconds"] > settings.retrain_lock_ttl_s, version.metrics


def test_redis_stopped_while_a_request_arrives_is_retried_and_handled_once_it_is_back(
    private_stack: Stack,
) -> None:
    stack, settings = private_stack
    publish(settings, TRANSFERS_COMPLETED, HISTORY)
    retrainer = start_service(settings, "retrainer", "retrainer")
    try:
        stack.redis.down()
        request_retrain(settings)

        def retried_twice() -> bool:
            assert retrainer.alive(), f"the retrainer exited:\n{retrainer.log_tail()}"
            return retrainer.log_tail(400).count("not handled yet") >= 2

        assert wait_until(retried_twice, TIMEOUT, interval=0.5), retrainer.log_tail()
        assert not handled(settings, 1) and outcomes(settings) == []
        stack.redis.up()
        wait_handled(settings, retrainer, 1)
    finally:
        retrainer.stop()
    assert [(type(e).__name__, getattr(e, "version", None)) for e in outcomes(settings)] == [
        ("ModelPromoted", "1")
    ]
    cache = ModelCache(redis_client(settings), prefix=settings.topic_prefix)
    assert cache.current_version(settings.model_name) == "1"


def test_an_mlflow_store_locked_while_a_request_arrives_is_retried_and_handled_once_free(
    private_stack: Stack,
) -> None:
    _stack, settings = private_stack
    publish(settings, TRANSFERS_COMPLETED, HISTORY)
    MlflowClient(settings.mlflow_uri).search_experiments()  # the store exists before it is locked
    retrainer = start_service(settings, "retrainer", "retrainer")
    try:

        def reading() -> bool:
            assert retrainer.alive(), f"the retrainer exited:\n{retrainer.log_tail()}"
            return "retrainer reading" in retrainer.log_tail(400)

        assert wait_until(reading, TIMEOUT, interval=0.5), retrainer.log_tail()
        # An exclusive transaction keeps every other connection out, readers too: to MLflow's
        # SQL store that is a database that does not answer (TEMPORARILY_UNAVAILABLE).
        store = sqlite3.connect(urlparse(settings.mlflow_uri).path, isolation_level=None)
        try:
            store.execute("BEGIN EXCLUSIVE")
            request_retrain(settings)

            def retried() -> bool:
                assert retrainer.alive(), f"the retrainer exited:\n{retrainer.log_tail()}"
                tail = retrainer.log_tail(400)
                return "not handled yet" in tail and "RegistryUnavailable" in tail

            assert wait_until(retried, TIMEOUT, interval=0.5), retrainer.log_tail()
            assert not handled(settings, 1) and outcomes(settings) == []
        finally:
            store.execute("ROLLBACK")
            store.close()
        wait_handled(settings, retrainer, 1)
    finally:
        retrainer.stop()
    assert [(type(e).__name__, getattr(e, "version", None)) for e in outcomes(settings)] == [
        ("ModelPromoted", "1")
    ]
    assert all_events(settings, DEAD_LETTERS) == []


def artifact_file(client: MlflowClient, name: str, version: str) -> Path:
    run_id = client.get_model_version(name, version).run_id
    assert run_id is not None
    root = client.get_run(run_id).info.artifact_uri
    return Path(unquote(urlparse(root).path)) / BLOB_DIR / BLOB_FILE


def test_a_tampered_mlflow_artifact_promoted_through_the_api_is_refused_and_nothing_moves(
    private_stack: Stack,
) -> None:
    _stack, settings = private_stack
    publish(settings, TRANSFERS_COMPLETED, HISTORY)
    assert train_initial(settings, transfers=HISTORY).version == "1"
    registry = Registry.connect(settings, make_producer(settings), source="test")
    champion_blob = registry.cache.fetch(settings.model_name, "1")
    assert champion_blob is not None
    # Version 2: the same model registered again, then its MLflow artifact rewritten twice
    # over, each time with the digest tag rewritten to match (what an attacker with write
    # access to the artifact store and the registry would do).
    artifact = load_artifact(champion_blob, registry.signing_key)
    registered = registry.register(artifact, run_name="to-tamper", params={"trigger": "test"})
    assert registered.version == "2"
    path = artifact_file(registry.client, settings.model_name, "2")
    flipped = bytearray(path.read_bytes())
    flipped[len(flipped) // 2] ^= 0xFF
    tampered = {"payload byte flipped": bytes(flipped), "version 1's blob copied": champion_blob}
    lifecycle_before = all_events(settings, MODELS_LIFECYCLE)
    with running_api(settings) as api, api.client(headers={"X-API-Key": API_KEY}) as http:
        for what, blob in tampered.items():
            path.write_bytes(blob)
            registry.client.set_model_version_tag(settings.model_name, "2", TAG_SHA256, blob_sha256(blob))
            answer = http.post("/v1/models/2/promote", json={"reason": "tampered"})
            assert answer.status_code == 409, (what, answer.status_code, answer.text)
            assert "refused" in answer.json()["detail"] and "nothing was moved" in answer.json()["detail"], (
                what
            )
            assert champion_version(registry.client, settings.model_name) == "1", what
            assert registry.cache.current_version(settings.model_name) == "1", what
            assert registry.cache.fetch(settings.model_name, "2") is None, what
    assert all_events(settings, MODELS_LIFECYCLE) == lifecycle_before  # no ModelPromoted for 2
    assert [type(e) for e in lifecycle_before] == [ModelRegistered, ModelPromoted, ModelRegistered]
