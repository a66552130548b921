"""The alert sink on the real broker and Redis: real events in, webhook POSTs out.

A local HTTP receiver (http.server in a thread) stands for the webhook. It answers 500 to
the first promotion alert and holds the first rejection alert past the client's timeout:
both are retried, and the other alerts arrive in between, never held behind them. Drift and
lifecycle events, a burst of dead letters and a stale worker heartbeat (Redis) each give
their alert. Waits are conditions with deadlines.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from uuid import uuid4

import pytest
from pydantic import SecretStr

from consumers.alerts import AlertSink, build_alerts
from schemas.deadletters import DeadLetter
from schemas.examples import example_of
from schemas.lifecycle import ModelPromoted, ModelRejected, ModelRolledBack, ModelShadowed
from schemas.monitoring import DriftDetected
from schemas.topics import DEAD_LETTERS, MODELS_LIFECYCLE, MONITORING_DRIFT
from stack.redis_clients import redis_client
from stack.settings import Settings
from stack.worker_heartbeat import heartbeat_key
from tests.flow_helpers import publish_in_order

pytestmark = pytest.mark.integration
DEADLINE_S = 90.0
HOLD_S = 4.0  # the receiver holds the first rejection this long; the client gives up after 1 s


class Receiver:
    """Records every POST as (kind, status answered); fails the first of some kinds."""

    def __init__(self) -> None:
        self.posts: list[tuple[str, int]] = []
        self.bodies: list[dict[str, Any]] = []
        self.fail_first = {"promoted"}
        self.hold_first = {"rejected"}
        self.release = threading.Event()
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                status = receiver.answer(body)
                self.send_response(status)
                self.end_headers()

            def log_message(self, *_args: object) -> None:
                return None  # no noise in the test output

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True, name="webhook")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def answer(self, body: dict[str, Any]) -> int:
        kind = str(body["kind"])
        with self.lock:
            first = all(seen != kind for seen, _ in self.posts)
            held = first and kind in self.hold_first
            status = 500 if first and kind in self.fail_first else 200
            self.posts.append((kind, 0 if held else status))
            if status == 200 and not held:
                self.bodies.append(body)
        if held:
            self.release.wait(HOLD_S)  # a slow webhook: the client gave up after its timeout
        return status

    def delivered(self) -> set[str]:
        with self.lock:
            return {str(body["kind"]) for body in self.bodies}

    def attempts(self, kind: str) -> list[int]:
        with self.lock:
            return [index for index, (seen, _) in enumerate(self.posts) if seen == kind]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    receiver.thread.start()
    yield receiver
    receiver.release.set()
    receiver.server.shutdown()
    receiver.server.server_close()


@pytest.fixture
def alert_settings(settings: Settings, receiver: Receiver, unique: str) -> Settings:
    return settings.model_copy(
        update={
            "alert_webhook_url": SecretStr(receiver.url),
            "alert_webhook_format": "json",
            "alert_webhook_timeout_s": 1.0,
            "alert_retry_first_s": 0.5,
            "alert_retry_most_s": 2.0,
            "alert_offset_reset": "earliest",
            "alert_group_id": f"alerts-{unique}",
            "alert_deadletter_rate_per_min": 3.0,
            "alert_worker_stale_s": 30.0,
            "alert_heartbeat_check_s": 0.2,
        }
    )


class Running:
    def __init__(self, sink: AlertSink) -> None:
        self.sink = sink
        self.stop = threading.Event()
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True, name="alerts")

    def _run(self) -> None:
        try:
            self.sink.run(self.stop)
        except BaseException as exc:  # reported to the test thread
            self.error = exc

    def wait(self, condition: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + DEADLINE_S
        while not condition():
            if self.error is not None:
                raise AssertionError(f"the alert sink failed: {self.error!r}") from self.error
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}")
            time.sleep(0.05)  # noqa: sleep-ok - poll interval of a condition bounded by the deadline


@pytest.fixture
def running(alert_settings: Settings) -> Iterator[Running]:
    runner = Running(build_alerts(alert_settings))
    runner.thread.start()
    yield runner
    runner.stop.set()
    runner.thread.join(timeout=30)
    assert not runner.thread.is_alive()


def test_each_alert_kind_reaches_the_webhook_and_a_failing_one_never_blocks_the_next(
    alert_settings: Settings, receiver: Receiver, running: Running, unique: str
) -> None:
    now = datetime.now(UTC)
    heartbeat = {"worker": f"w-{unique}", "model_name": "m", "model_version": "1"}
    heartbeat["updated_at"] = (now - timedelta(minutes=10)).isoformat()
    redis = redis_client(alert_settings)
    try:
        key = heartbeat_key(alert_settings.topic_prefix, f"w-{unique}")
        redis.set(key, json.dumps(heartbeat), ex=300)
        # Another stack's stale worker on the same Redis: not ours to alert on.
        theirs = {**heartbeat, "worker": f"w-theirs-{unique}"}
        redis.set(
            heartbeat_key(f"other-{alert_settings.topic_prefix}", theirs["worker"]),
            json.dumps(theirs),
            ex=300,
        )
    finally:
        redis.close()
    letters = [
        (
            DEAD_LETTERS,
            example_of(DeadLetter, event_id=uuid4(), source="test", occurred_at=now + timedelta(seconds=i)),
        )
        for i in range(5)
    ]
    lifecycle = [
        (MODELS_LIFECYCLE, example_of(cls, event_id=uuid4()))
        for cls in (ModelShadowed, ModelPromoted, ModelRejected, ModelRolledBack)
    ]
    publish_in_order(
        alert_settings,
        [(MONITORING_DRIFT, example_of(DriftDetected, event_id=uuid4())), *lifecycle, *letters],
    )

    kinds = {"drift", "shadowed", "promoted", "rejected", "rolled_back", "deadletters", "worker_down"}
    running.wait(lambda: receiver.delivered() >= kinds, f"every alert kind at the webhook ({kinds})")

    promoted, rejected = receiver.attempts("promoted"), receiver.attempts("rejected")
    assert len(promoted) >= 2 and len(rejected) >= 2, receiver.posts  # retried
    others = [index for index, (kind, _) in enumerate(receiver.posts) if kind not in {"promoted", "rejected"}]
    # Something else was delivered after each failed first attempt and before its retry.
    assert any(promoted[0] < index < promoted[1] for index in others + rejected), receiver.posts
    assert any(rejected[0] < index < rejected[1] for index in others + promoted), receiver.posts
    outcome = next(body for body in receiver.bodies if body["kind"] == "promoted")
    assert outcome["facts"]["pairs"] == "240" and "p-value" in outcome["facts"]
    assert sum(kind == "deadletters" for kind, _ in receiver.posts) == 1  # one alert per burst
    assert running.sink.outbox.dropped == 0 and running.sink.outbox.failed == 0
    down = [alert.facts.get("worker") for alert in running.sink.raised if alert.kind == "worker_down"]
    assert f"w-{unique}" in down and f"w-theirs-{unique}" not in down, down
