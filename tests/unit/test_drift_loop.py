"""The Kafka shell with fake clients: decode at the edge, emit before commit, dead letters."""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import KafkaError
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE, TEMPORARILY_UNAVAILABLE

from modelstore import InMemoryModelStore, sign_artifact
from modelstore.calibration import CalibratedBounds
from monitoring import DriftMonitor, DriftPublishError, StoreReferences
from monitoring.calibration import CalibrationConfig, Calibrator, conformal_offsets
from monitoring.live_evidence import LiveEvidence
from monitoring.loop import MonitorLoop, MonitorTopics
from monitoring.shadow_residuals import ShadowResiduals
from schemas.codec import decode, encode, encode_for
from schemas.deadletters import DeadLetter
from schemas.lifecycle import ModelRolledBack
from schemas.monitoring import DriftDetected
from schemas.topics import PREDICTIONS_RESULTS, PREDICTIONS_SHADOW, TRANSFERS_COMPLETED
from tests.unit.test_drift_monitor import (
    KEY,
    MODEL,
    NOISE,
    CountingCheck,
    NoReports,
    drift_artifact,
    small_config,
    stream,
)

TOPICS = MonitorTopics("results", "transfers", "lifecycle", "drift", "deadletters")


@dataclass
class FakeMessage:
    _topic: str
    _value: bytes | None
    _headers: list[tuple[str, str | bytes | None]] | None = None
    _key: bytes | None = None
    _offset: int = 0

    def topic(self) -> str:
        return self._topic

    def value(self) -> bytes | None:
        return self._value

    def headers(self) -> list[tuple[str, str | bytes | None]] | None:
        return self._headers

    def key(self) -> bytes | None:
        return self._key

    def partition(self) -> int:
        return 0

    def offset(self) -> int:
        return self._offset

    def error(self) -> KafkaError | None:
        return None


@dataclass
class FakeConsumer:
    batches: list[list[FakeMessage]]
    log: list[str]
    subscribed: list[str] = field(default_factory=list)
    closed: bool = False

    def subscribe(self, topics: list[str]) -> None:
        self.subscribed = topics

    def consume(self, num_messages: int, timeout: float) -> list[FakeMessage]:
        return self.batches.pop(0) if self.batches else []

    def commit(self, asynchronous: bool) -> None:
        self.log.append("commit")

    def close(self) -> None:
        self.closed = True


@dataclass
class FakeProducer:
    log: list[str]
    fail: bool = False
    sent: list[tuple[str, bytes]] = field(default_factory=list)
    _pending: list[tuple[Any, FakeMessage]] = field(default_factory=list)

    def produce(self, topic: str, key: bytes | None, value: bytes, headers: Any, on_delivery: Any) -> None:
        self.sent.append((topic, value))
        self.log.append(f"produce {topic}")
        self._pending.append((on_delivery, FakeMessage(topic, value)))

    def flush(self, timeout: float) -> int:
        for callback, message in self._pending:
            callback(KafkaError(KafkaError._MSG_TIMED_OUT) if self.fail else None, message)
        self._pending.clear()
        self.log.append("flush")
        return 0


def _message(topic: str, event: Any, spec: Any) -> FakeMessage:
    key, value, headers = encode_for(event, spec)
    return FakeMessage(topic, value, headers, key)


@pytest.fixture
def store() -> InMemoryModelStore:
    store = InMemoryModelStore()
    store.publish(MODEL, sign_artifact(drift_artifact("1"), KEY), "1")
    return store


def _loop(store: InMemoryModelStore, batches: list[list[FakeMessage]], fail: bool = False) -> MonitorLoop:
    log: list[str] = []
    monitor = DriftMonitor(
        small_config(), StoreReferences(store, MODEL, KEY), NoReports(), check=CountingCheck()
    )
    monitor.refresh()
    return MonitorLoop(FakeConsumer(batches, log), FakeProducer(log, fail=fail), monitor, TOPICS)  # type: ignore[arg-type]


def _performance_batch(seed: int) -> list[FakeMessage]:
    messages = []
    for observation in stream(drift_artifact("1"), 120, seed=seed, noise=NOISE * 3):
        messages.append(_message("results", observation.result, PREDICTIONS_RESULTS))
        messages.append(_message("transfers", observation.transfer, TRANSFERS_COMPLETED))
    return messages


def test_the_event_is_delivered_before_the_batch_is_committed(store: InMemoryModelStore) -> None:
    loop = _loop(store, [_performance_batch(31)])
    events = loop.step()
    assert [event.kind for event in events] == ["performance"]
    log = loop.consumer.log  # type: ignore[attr-defined]
    assert log == ["produce drift", "flush", "commit"]
    topic, value = loop.producer.sent[0]  # type: ignore[attr-defined]
    assert topic == "drift" and decode(value, expected=DriftDetected) == events[0]
    assert loop.processed == 240 and list(loop.emitted) == events


def test_an_undelivered_event_is_not_committed(store: InMemoryModelStore) -> None:
    loop = _loop(store, [_performance_batch(32)], fail=True)
    with pytest.raises(DriftPublishError):
        loop.step()
    assert "commit" not in loop.consumer.log  # type: ignore[attr-defined]


def test_undecodable_messages_are_dead_lettered_and_committed(store: InMemoryModelStore) -> None:
    transfer = stream(drift_artifact("1"), 1, seed=33)[0].transfer
    _, value, headers = encode(transfer)
    batch = [
        FakeMessage("results", b"{not json", [], b"k", 7),
        FakeMessage("results", value, headers, b"k", 8),  # a transfer on the results topic
    ]
    loop = _loop(store, [batch])
    assert loop.step() == []
    letters = [decode(v, expected=DeadLetter) for t, v in loop.producer.sent if t == "deadletters"]  # type: ignore[attr-defined]
    assert [(letter.source, letter.source_topic, letter.offset) for letter in letters] == [
        ("drift-monitor", "results", 7),
        ("drift-monitor", "results", 8),
    ]
    assert letters[0].raw_value() == b"{not json"
    assert loop.consumer.log[-2:] == ["flush", "commit"]  # type: ignore[attr-defined]


def test_a_rollback_on_models_lifecycle_reloads_the_reference(store: InMemoryModelStore) -> None:
    rollback = ModelRolledBack(
        model_name=MODEL,
        from_version="2",
        to_version="1",
        artifact_key=f"model:{MODEL}:1",
        artifact_sha256="0" * 64,
        reason="test",
        source="unit-test",
    )
    _, value, headers = encode(rollback)
    loop = _loop(store, [[FakeMessage("lifecycle", value, headers)]])
    store.publish(MODEL, sign_artifact(drift_artifact("2", seed=5), KEY), "2")
    assert loop.monitor.refresh() and loop.monitor.version == "2"

    store.activate(MODEL, "1")
    loop.step()
    assert loop.monitor.version == "1"


def test_run_stops_on_the_event_and_closes_the_consumer(store: InMemoryModelStore) -> None:
    loop = _loop(store, [])
    stop = threading.Event()
    stop.set()
    loop.run(stop)
    assert loop.consumer.closed and loop.consumer.subscribed == ["results", "transfers", "lifecycle"]  # type: ignore[attr-defined]


def test_topics_come_from_the_settings_with_the_prefix(tmp_path: Path) -> None:
    from stack.settings import Settings

    topics = MonitorTopics.from_settings(Settings(_env_file=None, topic_prefix="p.", state_dir=tmp_path))  # type: ignore[call-arg]
    assert topics == MonitorTopics(
        "p.predictions.results",
        "p.transfers.completed",
        "p.models.lifecycle",
        "p.monitoring.drift",
        "p.deadletters",
        "p.predictions.shadow",  # shadow promotion (the default): the monitor judges shadow results
    )
    holdout = Settings(_env_file=None, topic_prefix="p.", state_dir=tmp_path, promotion="holdout")  # type: ignore[call-arg]
    assert MonitorTopics.from_settings(holdout).shadow is None


class FakeRedis(dict[str, bytes]):
    def set(self, name: str, value: bytes) -> None:  # type: ignore[override]
        self[name] = value

    def delete(self, *names: str) -> None:
        for name in names:
            self.pop(name, None)


def test_a_clean_stop_saves_the_windows_and_the_next_start_restores_them_once(
    store: InMemoryModelStore,
) -> None:
    from monitoring.state import SavedState

    redis = FakeRedis()
    saved = SavedState(redis, "state")
    # Results without their fees: vectors in the feature window, predictions pending.
    results = [
        _message("results", o.result, PREDICTIONS_RESULTS) for o in stream(drift_artifact("1"), 40, seed=35)
    ]
    first = _loop(store, [results])
    first.state = saved
    first.step()
    held = first.monitor.held()
    assert held["pending predictions"] == 40 and held["window vectors"] == 40
    stop = threading.Event()
    stop.set()
    first.run(stop)  # a clean stop between batches saves
    assert "state" in redis

    second = _loop(store, [])
    assert saved.restore(second.monitor)
    assert second.monitor.held() == held
    assert "state" not in redis and not saved.restore(_loop(store, []).monitor)  # loaded once


def test_state_saved_for_another_version_is_dropped(store: InMemoryModelStore) -> None:
    from monitoring.state import SavedState

    redis = FakeRedis()
    saved = SavedState(redis, "state")
    loop = _loop(
        store,
        [
            [
                _message("results", o.result, PREDICTIONS_RESULTS)
                for o in stream(drift_artifact("1"), 5, seed=36)
            ]
        ],
    )
    loop.step()
    saved.save(loop.monitor)
    store.publish(MODEL, sign_artifact(drift_artifact("2", seed=5), KEY), "2")
    fresh = _loop(store, [])
    assert fresh.monitor.version == "2" and not saved.restore(fresh.monitor)
    assert fresh.monitor.held()["pending predictions"] == 0


@dataclass
class FlakyShadow:
    """A shadow decider whose registry fails the first verdicts with the given MLflow errors."""

    failures: list[Exception]
    decided: int = 0

    def observe_result(self, event: object, shadow: bool) -> None:
        return None

    def observe_label(self, event: object) -> None:
        return None

    def refresh(self) -> None:
        return None

    def decide(self) -> None:
        if self.failures:
            raise self.failures.pop(0)
        self.decided += 1


def _shadow_loop(store: InMemoryModelStore, shadow: FlakyShadow) -> MonitorLoop:
    transfer = stream(drift_artifact("1"), 1, seed=34)[0].transfer
    loop = _loop(store, [[_message("transfers", transfer, TRANSFERS_COMPLETED)]])
    loop.shadow = shadow  # type: ignore[assignment]
    return loop


def test_a_verdict_while_mlflow_is_away_is_retried_before_the_batch_is_committed(
    store: InMemoryModelStore,
) -> None:
    locked = MlflowException("database is locked", error_code=TEMPORARILY_UNAVAILABLE)
    shadow = FlakyShadow([locked, locked])
    loop = _shadow_loop(store, shadow)
    assert loop.step(threading.Event()) == []
    assert shadow.decided == 1 and loop.consumer.log[-1] == "commit"  # type: ignore[attr-defined]


def test_a_verdict_the_registry_refuses_is_logged_and_the_loop_goes_on(
    store: InMemoryModelStore, caplog: pytest.LogCaptureFixture
) -> None:
    shadow = FlakyShadow([MlflowException("no such version", error_code=INVALID_PARAMETER_VALUE)])
    loop = _shadow_loop(store, shadow)
    loop.step(threading.Event())
    assert shadow.decided == 0 and loop.consumer.log[-1] == "commit"  # type: ignore[attr-defined]
    assert "shadow verdict not carried out" in caplog.text and "no such version" in caplog.text


def test_shadow_residuals_reach_the_calibrator_under_the_shadow_version_in_either_order(
    store: InMemoryModelStore,
) -> None:
    """A challenger's shadow predictions met by their real fees (label first or result first)
    calibrate its own interval before it serves; the drift windows never see them."""
    observations = stream(drift_artifact("1"), 60, seed=35)
    shadow_results = [o.result.model_copy(update={"model_version": "2"}) for o in observations]
    labels_first = [_message("transfers", o.transfer, TRANSFERS_COMPLETED) for o in observations[:30]] + [
        _message("shadow", r, PREDICTIONS_SHADOW) for r in shadow_results[:30]
    ]
    results_first = [_message("shadow", r, PREDICTIONS_SHADOW) for r in shadow_results[30:]] + [
        _message("transfers", o.transfer, TRANSFERS_COMPLETED) for o in observations[30:]
    ]
    loop = _loop(store, [labels_first, results_first])
    loop.topics = replace(TOPICS, shadow="shadow")
    evidence = LiveEvidence(Calibrator(CalibrationConfig(window=100, min_labels=60, publish_every=10)))
    loop.shadow_residuals = ShadowResiduals(evidence.on_shadow_outcome, pending_limit=1000)
    loop.step(threading.Event())
    assert evidence.calibrator.labels("2") == 30 and not evidence.due
    loop.step(threading.Event())
    residuals = [
        math.log1p(o.transfer.fee_eur_m) - math.log1p(r.predicted_fee_eur_m or 0.0)
        for o, r in zip(observations, shadow_results, strict=True)
    ]
    assert evidence.due["2"] == CalibratedBounds("2", 0.8, *conformal_offsets(residuals, 0.8), 60)
    assert loop.monitor.stats.results == 0 and loop.monitor.stats.outcomes == 0
    assert evidence.health.snapshot("2") is None  # the label health is the serving version's
