"""The retrainer on the real stack: promote a better challenger, reject a worse one, survive a crash."""

from __future__ import annotations

import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta

from mlflow import MlflowClient

from devstack.services import settings_env, start_service
from modelstore.mlflow_registry import TAG_SHA256, champion_version, list_versions, run_params, version_tags
from modelstore.redis_cache import ModelCache
from retrainer.handler import PARAM_TRIGGER, TAG_OUTCOME
from schemas.codec import decode
from schemas.commands import RetrainRequested
from schemas.envelope import Event
from schemas.lifecycle import ModelPromoted, ModelRejected
from schemas.predictions import PredictionRequest
from schemas.records import TransferCompleted
from schemas.topics import MODELS_LIFECYCLE, MONITORING_DRIFT, PREDICTIONS_REQUESTS, TRANSFERS_COMPLETED
from stack.redis_clients import redis_client
from stack.settings import Settings
from tests.api_helpers import wait_until
from tests.e2e.conftest import HISTORY, SERVED_UNTIL
from tests.flow_helpers import collecting, history, publish, running_workers, serving_version
from tests.kafka_helpers import consume_until

TIMEOUT = 240.0


def inflated(transfers: list[TransferCompleted], factor: float) -> list[TransferCompleted]:
    """The same transfers at `factor` times the fee: a market that moved."""
    return [t.model_copy(update={"fee_eur_m": round(t.fee_eur_m * factor, 3)}) for t in transfers]


# After what the champion learned, 1,200 more transfers at four times the fees: the most recent
# ones are held out, the challenger learns from the earlier shifted ones and must win.
SHIFTED = inflated(
    HISTORY[SERVED_UNTIL:] + history(900, seed=9, start=HISTORY[-1].transferred_at + timedelta(hours=6)),
    4.0,
)


def manual_drift(settings: Settings) -> RetrainRequested:
    return RetrainRequested(source="test", model_name=settings.model_name, requested_by="test", reason="e2e")


def lifecycle_until(
    settings: Settings, done: type[Event] | tuple[type[Event], ...], count: int = 1
) -> list[Event]:
    """Lifecycle events from the start until ``count`` of the ``done`` kinds were seen."""
    messages = consume_until(
        settings,
        settings.topic(MODELS_LIFECYCLE.name),
        lambda ms: sum(isinstance(decode(m.value()), done) for m in ms) >= count,
        timeout=TIMEOUT,
    )
    return [decode(m.value()) for m in messages]


def probe(count: int, tag: str) -> list[PredictionRequest]:
    start = datetime(2031, 1, 1, tzinfo=UTC)
    return [
        PredictionRequest(
            source="test",
            request_id=f"{tag}-{i}",
            player_id=f"p7-{i}",
            position="Centre-Forward",
            from_club="Club 03",
            to_club="Club 01",
            season=2030,
            window="winter",
            requested_at=start + timedelta(seconds=i),
        )
        for i in range(count)
    ]


def test_drift_retrains_promotes_a_better_challenger_and_workers_swap(served: Settings) -> None:
    # The market moved: later fees are four times what the champion learned.
    publish(served, TRANSFERS_COMPLETED, SHIFTED)
    retrainer = start_service(served, "retrainer", "retrainer")
    try:
        with collecting(served) as results, running_workers(served, "w1") as (worker,):
            subprocess.run(  # the CLI a user would type
                [sys.executable, "-m", "cli.main", "retrain"], env=settings_env(served), check=True
            )
            events = lifecycle_until(served, (ModelPromoted, ModelRejected), count=2)
            outcome = events[-1]
            assert isinstance(outcome, ModelPromoted), f"{outcome}\n{retrainer.log_tail()}"
            assert outcome.version == "2" and outcome.previous_version == "1"
            # The swap runs beside scoring (fetch, verify, smoke test): wait until the worker
            # says it serves 2, then every request it takes must be answered by 2.
            assert wait_until(lambda: serving_version(worker) == 2, TIMEOUT), worker.log_tail()
            after = probe(50, "after")
            publish(served, PREDICTIONS_REQUESTS, after)
            assert results.wait_until(lambda rs: all(r.request_id in rs for r in after), TIMEOUT), (
                worker.log_tail()
            )
        assert {results.results[r.request_id][0].model_version for r in after} == {"2"}
    finally:
        retrainer.stop()
    client = MlflowClient(served.mlflow_uri)
    assert champion_version(client, served.model_name) == "2"
    assert version_tags(client, served.model_name, "2")[TAG_OUTCOME] == "promoted"


def test_a_worse_challenger_is_rejected_and_the_champion_keeps_serving(served: Settings) -> None:
    # Demand a challenger 90 % better than the champion: on the same market it cannot be.
    strict = served.model_copy(update={"retrain_margin": 0.9})
    publish(strict, TRANSFERS_COMPLETED, HISTORY[SERVED_UNTIL:])
    publish(strict, MONITORING_DRIFT, [manual_drift(strict)])
    retrainer = start_service(strict, "retrainer", "retrainer")
    try:
        with collecting(strict) as results, running_workers(strict, "w1") as (worker,):
            events = lifecycle_until(strict, ModelRejected)
            rejected = events[-1]
            assert isinstance(rejected, ModelRejected) and rejected.version == "2", retrainer.log_tail()
            assert rejected.champion_metrics["mae_log"] * 0.1 < rejected.challenger_metrics["mae_log"]
            after = probe(50, "after")
            publish(strict, PREDICTIONS_REQUESTS, after)
            assert results.wait_until(lambda rs: all(r.request_id in rs for r in after), TIMEOUT), (
                worker.log_tail()
            )
        assert {results.results[r.request_id][0].model_version for r in after} == {"1"}
    finally:
        retrainer.stop()
    client = MlflowClient(strict.mlflow_uri)
    assert champion_version(client, strict.model_name) == "1"
    assert (
        ModelCache(redis_client(strict), prefix=strict.topic_prefix).current_version(strict.model_name) == "1"
    )
    assert not any(isinstance(e, ModelPromoted) and e.version == "2" for e in events)


def test_killed_retrainer_handles_the_drift_event_once_after_restart(served: Settings) -> None:
    publish(served, TRANSFERS_COMPLETED, SHIFTED)
    served = served.model_copy(update={"retrain_lock_ttl_s": 5.0})  # the killed one's lock expires soon
    drift = manual_drift(served)
    publish(served, MONITORING_DRIFT, [drift])
    seen = kill_when_logged(served, "training a challenger")
    assert seen, "the first retrainer never started training"
    second = start_service(served, "retrainer-2", "retrainer")
    try:
        events = lifecycle_until(served, (ModelPromoted, ModelRejected), count=2)
    finally:
        second.stop()
    client = MlflowClient(served.mlflow_uri)
    versions = list_versions(client, served.model_name)
    # Every version is whole (has its signed blob) and one version answers the drift event.
    assert all(info.sha256 for info in versions)
    assert all(TAG_SHA256 in version_tags(client, served.model_name, v.version) for v in versions)
    for_event = [
        v for v in versions if run_params(client, v.run_id).get(PARAM_TRIGGER) == str(drift.event_id)
    ]
    assert len(for_event) == 1, [v.version for v in versions]
    decided = [e for e in events if isinstance(e, ModelPromoted | ModelRejected) and e.version != "1"]
    assert [e.version for e in decided] == [for_event[0].version]


def kill_when_logged(settings: Settings, text: str) -> bool:
    """Run `mlops-fc retrainer`, SIGKILL it as soon as its output shows ``text``."""
    process = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "retrainer"],
        env=settings_env(settings),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    guard = threading.Timer(TIMEOUT, process.kill)  # a hung retrainer ends the wait
    guard.start()
    seen = False
    try:
        assert process.stdout is not None
        for line in process.stdout:  # blocks until the next line: no polling
            if text in line:
                seen = True
                break
    finally:
        process.kill()
        process.wait(30)
        guard.cancel()
    return seen
