"""The drift monitor on the real broker and Redis: results and fees in, DriftDetected out.

The model artifact is signed and published to Redis as the retrainer does; the results and
fees go through the real topics; the monitor loop runs in a thread with its own consumer
group. Waits are conditions with deadlines (messages processed, events read back).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest
from confluent_kafka import Consumer, KafkaException, TopicPartition

from devstack.services import start_service
from modelstore import ModelArtifact, ModelCache, sign_artifact
from monitoring import resolve_report
from monitoring.bootstrap import build_loop
from monitoring.loop import MonitorLoop
from schemas.codec import decode, encode_for
from schemas.envelope import Event
from schemas.monitoring import DriftDetected
from schemas.topics import MONITORING_DRIFT, PREDICTIONS_RESULTS, TRANSFERS_COMPLETED, TopicSpec
from stack.kafka_clients import make_producer
from stack.kafka_connection import kafka_connection
from stack.redis_clients import redis_client
from stack.settings import Settings
from tests.kafka_helpers import consume_until
from tests.unit.test_drift_monitor import NOISE, SHIFTS, Observation, drift_artifact, stream

pytestmark = pytest.mark.integration
DEADLINE_S = 120.0


@pytest.fixture
def monitor_settings(settings: Settings, tmp_path: Path) -> Settings:
    """Small windows so a test stream fills them; reports in this test's own folder."""
    return settings.model_copy(
        update={
            "state_dir": tmp_path,
            "drift_feature_window": 600,
            "drift_feature_min_rows": 400,
            "drift_check_every": 200,
            "drift_error_window": 200,
            "drift_error_min_rows": 100,
        }
    )


@pytest.fixture
def artifact(monitor_settings: Settings) -> ModelArtifact:
    """Version 1 of the model, signed and made current in Redis (the workers' key prefix)."""
    artifact = drift_artifact("1", name=monitor_settings.model_name)
    client = redis_client(monitor_settings)
    try:
        cache = ModelCache(client, prefix=monitor_settings.topic_prefix)
        cache.publish(
            monitor_settings.model_name, sign_artifact(artifact, monitor_settings.model_signing_key), "1"
        )
    finally:
        client.close()
    return artifact


class RunningLoop:
    """The monitor loop in a thread; an exception in it fails the waiting test at once."""

    def __init__(self, loop: MonitorLoop) -> None:
        self.loop = loop
        self.stop = threading.Event()
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="drift-monitor", daemon=True)

    def _run(self) -> None:
        try:
            self.loop.run(self.stop)
        except BaseException as exc:  # reported to the test thread
            self.error = exc

    def wait(self, condition: Callable[[], bool], what: str, timeout: float = DEADLINE_S) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if self.error is not None:
                raise AssertionError(f"the monitor loop failed: {self.error!r}") from self.error
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}")
            time.sleep(0.05)  # noqa: sleep-ok - poll interval of a condition bounded by the deadline


@pytest.fixture
def running(monitor_settings: Settings, artifact: ModelArtifact) -> Iterator[RunningLoop]:
    runner = RunningLoop(build_loop(monitor_settings))
    assert runner.loop.monitor.version == "1"
    runner.thread.start()
    yield runner
    runner.stop.set()
    runner.thread.join(timeout=30)
    assert not runner.thread.is_alive()


def publish(settings: Settings, observations: Sequence[Observation], labels: bool = True) -> int:
    """Results, then the fees of the same transfers, on the real topics; returns the count."""
    producer = make_producer(settings)
    failures: list[str] = []
    sent = 0
    for observation in observations:
        pairs: list[tuple[Event, TopicSpec]] = [(observation.result, PREDICTIONS_RESULTS)]
        if labels:
            pairs.append((observation.transfer, TRANSFERS_COMPLETED))
        for event, spec in pairs:
            key, value, headers = encode_for(event, spec)
            wire: list[tuple[str, str | bytes | None]] = list(headers)
            producer.produce(
                settings.topic(spec.name),
                key=key,
                value=value,
                headers=wire,
                on_delivery=lambda err, _msg: failures.append(str(err)) if err else None,
            )
            producer.poll(0)
            sent += 1
    assert producer.flush(30) == 0 and failures == []
    return sent


def _offsets(settings: Settings, topic: str, group: str) -> tuple[list[int], list[int]]:
    """(committed offsets of ``group``, end offsets) per partition of ``topic``."""
    reader = Consumer({**kafka_connection(settings).confluent(), "group.id": group})
    try:
        partitions = reader.list_topics(topic, timeout=10).topics[topic].partitions
        assigned = [TopicPartition(topic, p) for p in sorted(partitions)]
        committed = [tp.offset for tp in reader.committed(assigned, timeout=10)]
        ends = [reader.get_watermark_offsets(tp, timeout=10)[1] for tp in assigned]
    finally:
        reader.close()
    return committed, ends


def test_a_stream_without_shift_gives_no_drift_event(
    monitor_settings: Settings, artifact: ModelArtifact, running: RunningLoop
) -> None:
    sent = publish(monitor_settings, stream(artifact, 1200, seed=41, season=20))
    running.wait(lambda: running.loop.processed >= sent, f"{sent} messages processed")

    monitor = running.loop.monitor
    assert monitor.stats.checks >= 4 and monitor.stats.outcomes == 1200
    assert not running.loop.emitted
    drift_topic = monitor_settings.topic(MONITORING_DRIFT.name)
    assert _offsets(monitor_settings, drift_topic, "nobody")[1] == [0]  # nothing was ever written
    # Offsets are committed once a batch is processed: a restart resumes after it.
    group = f"{monitor_settings.topic_prefix}{monitor_settings.monitor_group_id}"
    for spec in (PREDICTIONS_RESULTS, TRANSFERS_COMPLETED):
        committed, ends = _offsets(monitor_settings, monitor_settings.topic(spec.name), group)
        assert committed == ends and sum(ends) == 1200


def test_shifted_features_and_larger_errors_give_drift_events(
    monitor_settings: Settings, artifact: ModelArtifact, running: RunningLoop
) -> None:
    observations = stream(artifact, 450, seed=42, shift=SHIFTS, noise=NOISE * 3)
    sent = publish(monitor_settings, observations)
    running.wait(lambda: running.loop.processed >= sent, f"{sent} messages processed")

    # One feature event (400 vectors, then a fresh window of 50), one performance event per
    # window of 100 outcomes: at most one event per window.
    drift_topic = monitor_settings.topic(MONITORING_DRIFT.name)
    messages = consume_until(monitor_settings, drift_topic, lambda got: len(got) >= 5, timeout=DEADLINE_S)
    events = [decode(m.value(), m.headers(), expected=DriftDetected) for m in messages]
    assert sorted(event.event_id for event in events) == sorted(
        event.event_id for event in running.loop.emitted
    )
    # keyed by model name (monitoring.drift also carries RetrainRequested, which names no version)
    assert all(m.key() == event.model_name.encode() for m, event in zip(messages, events, strict=True))
    features = [event for event in events if event.kind == "feature"]
    performance = [event for event in events if event.kind == "performance"]
    assert len(features) == 1 and len(performance) == 4

    feature = features[0]
    assert (feature.model_name, feature.model_version, feature.window_size) == (
        monitor_settings.model_name,
        "1",
        400,
    )
    top = sorted(feature.scores, key=feature.scores.__getitem__, reverse=True)[: len(SHIFTS)]
    assert set(top) == set(SHIFTS)
    assert feature.report_uri is not None
    html = resolve_report(monitor_settings.state_dir, feature.report_uri)
    # Written beside the loop (monitoring.reports.BackgroundReports), whole or not at all.
    running.wait(html.exists, "the drift report written")
    assert html.stat().st_size > 10_000

    for event in performance:
        assert event.online_error is not None and event.reference_error is not None
        assert event.online_error / event.reference_error > monitor_settings.drift_error_ratio
        assert event.window_size == monitor_settings.drift_error_min_rows
    # Windows follow arrival order; with 4 partitions their event-time bounds may overlap.
    assert sum(event.window_size for event in performance) <= running.loop.monitor.stats.outcomes == 450


def test_mlops_fc_monitor_runs_and_stops_cleanly_on_sigterm(
    monitor_settings: Settings, artifact: ModelArtifact
) -> None:
    """The CLI as a user starts it: it consumes, commits, and exits 0 on SIGTERM."""
    service = start_service(monitor_settings, "monitor", "monitor", "--loglevel", "info")
    try:
        sent = publish(monitor_settings, stream(artifact, 20, seed=43), labels=False)
        group = f"{monitor_settings.topic_prefix}{monitor_settings.monitor_group_id}"
        results = monitor_settings.topic(PREDICTIONS_RESULTS.name)
        deadline = time.monotonic() + DEADLINE_S
        while True:
            committed, ends = _offsets(monitor_settings, results, group)
            if committed == ends and sum(ends) == sent:
                break
            assert service.alive(), service.log_tail()
            assert time.monotonic() < deadline, f"results never committed:\n{service.log_tail()}"
            time.sleep(0.2)  # noqa: sleep-ok - poll interval of a condition bounded by the deadline
    finally:
        service.stop(grace=30)
    assert service.process.returncode == 0, service.log_tail()
    assert "drift monitor stopped: 20 messages" in service.log_tail()


def test_a_restarted_monitor_keeps_its_pending_predictions(
    monitor_settings: Settings, artifact: ModelArtifact
) -> None:
    """SIGTERM saves the windows and the predictions waiting for their fee; the next start has them."""
    group = f"{monitor_settings.topic_prefix}{monitor_settings.monitor_group_id}"
    results = monitor_settings.topic(PREDICTIONS_RESULTS.name)

    def run_until_committed(sent: int, name: str, started: str) -> str:
        service = start_service(monitor_settings, name, "monitor", "--loglevel", "info")
        try:
            deadline = time.monotonic() + DEADLINE_S
            while True:
                try:
                    committed, ends = _offsets(monitor_settings, results, group)
                except KafkaException:  # the group's coordinator is still moving: ask again
                    committed, ends = [], [-1]
                log = service.log_path.read_text(errors="replace")
                if committed == ends and sum(ends) == sent and started in log:
                    break
                assert service.alive(), service.log_tail()
                assert time.monotonic() < deadline, f"results never committed:\n{service.log_tail()}"
                time.sleep(0.2)  # noqa: sleep-ok - poll interval of a condition bounded by the deadline
        finally:
            service.stop(grace=30)
        assert service.process.returncode == 0, service.log_tail()
        return service.log_path.read_text(errors="replace")

    sent = publish(monitor_settings, stream(artifact, 30, seed=44), labels=False)
    first = run_until_committed(sent, "m1", "starting with empty windows")
    assert "saved its state for the next start" in first and "30 pending predictions" in first
    second = run_until_committed(sent, "m2", "restored its state")
    assert "restored its state" in second and "30 pending predictions" in second
