"""Two retrainers at once, as a rollout gone wrong or `replicas: 2` would run them, are safe.

deploy/k8s runs one retrainer (strategy Recreate) and says why a second one does no harm:
both join one consumer group on monitoring.drift (one partition), so a drift event reaches
one of them, and a retrain holds a Redis lock. Here two `mlops-fc retrainer` processes run on
the real stack while one drift event arrives: one trains, registers and decides, once (on
the served history alone: promoted or rejected, either is one decision).
"""

from __future__ import annotations

import time

import pytest
from confluent_kafka import ConsumerGroupState, KafkaError, KafkaException
from mlflow import MlflowClient

from devstack.services import Service, start_service
from modelstore.mlflow_registry import list_versions, run_params
from retrainer.handler import PARAM_TRIGGER
from schemas.lifecycle import ModelPromoted, ModelRejected
from schemas.topics import MONITORING_DRIFT, TRANSFERS_COMPLETED
from stack.kafka_clients import make_admin
from stack.settings import Settings
from tests.e2e.conftest import HISTORY, SERVED_UNTIL
from tests.e2e.test_retrainer_flow import lifecycle_until, manual_drift
from tests.flow_helpers import publish

GROUP_WAIT_S = 120.0
RETRAINER_GROUP = "mlops-fc-retrainer"  # retrainer/service.py, after the topic prefix
# The group's coordinator is loading or moving: ask again (librdkafka marks these non-retriable here).
COORDINATOR_MOVING = {
    KafkaError.NOT_COORDINATOR,
    KafkaError.COORDINATOR_LOAD_IN_PROGRESS,
    KafkaError.COORDINATOR_NOT_AVAILABLE,
}


def group_members(settings: Settings) -> tuple[bool, int]:
    """(stable, members) of the retrainers' consumer group."""
    group = f"{settings.topic_prefix}{RETRAINER_GROUP}"
    admin = make_admin(settings)
    try:
        description = admin.describe_consumer_groups([group])[group].result(timeout=30)
    except KafkaException as exc:
        if exc.args[0].retriable() or exc.args[0].code() in COORDINATOR_MOVING:
            return False, 0
        raise
    return description.state == ConsumerGroupState.STABLE, len(description.members)


def wait_for_group(settings: Settings, members: int, services: list[Service]) -> None:
    deadline = time.monotonic() + GROUP_WAIT_S
    while time.monotonic() < deadline:
        if group_members(settings) == (True, members):
            return
        assert all(s.alive() for s in services), "\n".join(s.log_tail() for s in services)
        time.sleep(0.5)  # noqa: sleep-ok - poll interval, bounded by the deadline
    raise AssertionError(f"the retrainers' group did not reach {members} members: {group_members(settings)}")


@pytest.mark.timeout(1500)  # two trainings' worth of CPU on a shared machine
def test_two_retrainers_handle_one_drift_event_once(served: Settings) -> None:
    publish(served, TRANSFERS_COMPLETED, HISTORY[SERVED_UNTIL:])  # new data: a challenger can be judged
    retrainers = [start_service(served, name, "retrainer") for name in ("retrainer-a", "retrainer-b")]
    drift = manual_drift(served)
    try:
        wait_for_group(served, 2, retrainers)
        publish(served, MONITORING_DRIFT, [drift])
        events = lifecycle_until(served, (ModelPromoted, ModelRejected), count=2)
    finally:
        for retrainer in retrainers:
            retrainer.stop()  # SIGTERM: each finishes the event in hand before it exits
    logs = [retrainer.log_path.read_text(encoding="utf-8", errors="replace") for retrainer in retrainers]
    handled = [log.count(f"{drift.event_id} ->") for log in logs]
    assert sorted(handled) == [0, 1], f"each retrainer's count of outcomes for the event: {handled}"
    client = MlflowClient(served.mlflow_uri)
    for_event = [
        v
        for v in list_versions(client, served.model_name)
        if run_params(client, v.run_id).get(PARAM_TRIGGER) == str(drift.event_id)
    ]
    assert len(for_event) == 1, [v.version for v in for_event]
    decided = [e for e in events if isinstance(e, ModelPromoted | ModelRejected) and e.version != "1"]
    assert [e.version for e in decided] == [for_event[0].version]
