"""The whole system over SASL_SSL: a broker that only takes TLS with a SCRAM-SHA-512 login.

The test makes a CA and a broker certificate (`cryptography`), formats the broker with a
SCRAM user (`kafka-storage format --add-scram`) and starts it with a SASL_SSL client listener.
Every service then reads the security settings the way a user on a managed Kafka sets them:
the ingester (`mlops-fc ingest`), the first training, the worker (Faust and aiokafka), the
monitor, the retrainer (`mlops-fc retrain` and back), and the REST facade. A client with a
wrong password is refused with an error naming the setting, and the stack carries on.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from devstack.kafka_broker import KafkaBroker, SecureListener
from devstack.local import LocalStack
from devstack.processes import free_port
from devstack.services import Service, settings_env, start_service
from retrainer.initial import train_initial
from schemas.codec import decode
from schemas.lifecycle import ModelLifecycleEvent, ModelPromoted, ModelRejected
from schemas.topics import MODELS_LIFECYCLE, PREDICTIONS_REQUESTS, PREDICTIONS_RESULTS, TRANSFERS_COMPLETED
from stack.kafka_clients import kafka_refusal
from stack.settings import Settings
from stack.topic_admin import ensure_topics
from stack.topic_offsets import groupless_consumer, partitions_of, watermarks
from tests.api_helpers import API_KEY, running_api
from tests.flow_helpers import collecting, group_offsets, running_workers
from tests.kafka_helpers import consume_until
from tests.stack_fixtures import local_stack_settings
from tests.tls import KEYSTORE_PASSWORD, broker_keystore, make_ca

USER, PASSWORD = "mlops-fc", "scram-test-password"  # noqa: S105 - a throwaway broker's user
DEADLINE_S = 300.0


@pytest.fixture
def secure(tmp_path: Path) -> Iterator[Settings]:
    """A private stack whose broker takes SASL_SSL (SCRAM-SHA-512) only, and settings to reach it."""
    ca = make_ca(tmp_path / "tls")
    settings = local_stack_settings(tmp_path / "stack").model_copy(
        update={
            "kafka_security_protocol": "SASL_SSL",
            "kafka_sasl_mechanism": "SCRAM-SHA-512",
            "kafka_sasl_username": USER,
            "kafka_sasl_password": SecretStr(PASSWORD),
            "kafka_ssl_ca_file": ca.cert_file,
            "worker_no_model_wait_s": 2.0,
            "retrain_cooldown_s": 0.0,
            "promotion": "holdout",  # a manual retrain comes back as ModelPromoted or ModelRejected
        }
    )
    listener = SecureListener(
        keystore=broker_keystore(ca, tmp_path / "tls"),
        keystore_password=KEYSTORE_PASSWORD,
        internal_port=free_port(),
        users={USER: PASSWORD},
    )
    stack = LocalStack(settings)
    stack.kafka = KafkaBroker(settings, secure=listener)
    try:
        stack.up()
        ensure_topics(settings)
        yield settings
    finally:
        stack.down()


def _ingest(
    settings: Settings, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own CLI
        [sys.executable, "-m", "cli.main", "ingest", "synthetic", *args],
        env={**settings_env(settings), "COLUMNS": "300", **(env or {})},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def _end(settings: Settings, name: str) -> int:
    consumer = groupless_consumer(settings)
    try:
        topic = settings.topic(name)
        return sum(watermarks(consumer, topic, p)[1] for p in partitions_of(consumer, topic))
    finally:
        consumer.close()


def _wait(condition: object, what: str, services: list[Service]) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not condition():  # type: ignore[operator]
        for service in services:
            assert service.alive(), f"{service.name} died:\n{service.log_tail()}"
        assert time.monotonic() < deadline, f"timed out waiting for {what}:\n" + "\n".join(
            f"--- {s.name}\n{s.log_tail(15)}" for s in services
        )
        time.sleep(0.5)  # noqa: sleep-ok - poll interval of a condition bounded by the deadline


def test_a_wrong_password_is_refused_with_the_setting_named(secure: Settings) -> None:
    wrong = secure.model_copy(update={"kafka_sasl_password": SecretStr("not-the-password")})
    refusal = kafka_refusal(wrong, timeout=10)
    assert refusal is not None and "MLOPS_FC_KAFKA_SASL_PASSWORD" in refusal, refusal
    assert kafka_refusal(secure, timeout=10) is None
    # The port takes TLS only: no PLAINTEXT fallback lets the rest of the file pass by accident.
    assert kafka_refusal(secure.model_copy(update={"kafka_security_protocol": "PLAINTEXT"}), timeout=5)

    done = _ingest(wrong, "--seasons", "2010", "--per-season", "5")
    assert done.returncode == 3, done.stderr
    assert "refused the login" in done.stderr and "MLOPS_FC_KAFKA_SASL_PASSWORD" in done.stderr
    assert "Traceback" not in done.stderr
    # Nothing went out under the wrong login, and the right one still works.
    assert _end(secure, TRANSFERS_COMPLETED.name) == 0


@pytest.mark.timeout(1200)
def test_ingest_serve_monitor_retrain_and_the_api_over_sasl_ssl(secure: Settings) -> None:
    settings = secure
    history = _ingest(settings, "--seed", "5", "--seasons", "2008-2011", "--per-season", "150")
    assert history.returncode == 0, history.stderr
    assert train_initial(settings).version == "1"  # reads the history back over SASL_SSL

    started: list[Service] = []
    try:
        # The facade first: four services importing at once on two shared cores outlast its
        # start-up deadline.
        with running_api(settings, "api") as api:
            started += [
                start_service(settings, "monitor", "monitor", "--loglevel", "info"),
                start_service(settings, "retrainer", "retrainer"),
            ]
            with running_workers(settings, "w1") as workers, collecting(settings) as collector:
                services = [*started, *workers, api.service]
                replay = _ingest(
                    settings, "--seed", "6", "--seasons", "2012", "--per-season", "60", "--as-requests"
                )
                assert replay.returncode == 0, replay.stderr
                requests = _end(settings, PREDICTIONS_REQUESTS.name)
                assert requests > 0
                _wait(lambda: len(collector.results) >= requests, f"{requests} results", services)
                assert all(r[0].status == "ok" for r in collector.results.values())

                # The REST facade publishes and reads its answer over SASL_SSL too.
                with api.client(headers={"X-API-Key": API_KEY}) as http:
                    reply = http.post(
                        "/v1/predictions",
                        json={
                            "player_id": "p-sasl",
                            "position": "Centre-Back",
                            "from_club": "A",
                            "to_club": "B",
                            "season": 2012,
                            "window": "summer",
                        },
                    )
                assert reply.status_code == 200, reply.text
                assert reply.json()["status"] == "ok"

                # The monitor commits what it read.
                group = f"{settings.topic_prefix}{settings.monitor_group_id}"

                def monitor_done() -> bool:
                    ends = _end(settings, PREDICTIONS_RESULTS.name)
                    return (
                        sum(max(0, v) for v in group_offsets(settings, PREDICTIONS_RESULTS, group).values())
                        >= ends
                    )

                _wait(monitor_done, "the monitor's commits", services)

                # A manual retrain goes through the retrainer and comes back as a lifecycle event.
                retrain = subprocess.run(  # noqa: S603 - our own CLI
                    [sys.executable, "-m", "cli.main", "retrain"],
                    env=settings_env(settings),
                    capture_output=True,
                    text=True,
                    timeout=300,
                    check=False,
                )
                assert retrain.returncode == 0, retrain.stderr
                lifecycle = consume_until(
                    settings,
                    settings.topic(MODELS_LIFECYCLE.name),
                    lambda got: any(_outcome(m.value()) for m in got),
                    timeout=DEADLINE_S,
                )
                assert any(_outcome(m.value()) for m in lifecycle), started[1].log_tail()
                for service in services:
                    assert service.alive(), service.log_tail()
    finally:
        for service in started:
            service.stop()


def _outcome(value: bytes | None) -> bool:
    event = decode(value, expected=ModelLifecycleEvent)
    return isinstance(event, ModelPromoted | ModelRejected) and event.source == "retrainer"
