"""Label health and lineage per model version, on the real stack, through the facade.

A worker (version 1 serving) answers replayed requests; their real fees come later on
transfers.completed; the drift monitor loop joins them and writes the label health to
Redis. A drift event then goes through the real retrainer handler (train, MLflow, verdict).
GET /v1/models/{version}, /metrics and the flows page's data show per version: answers,
labels and their share, label delay, live MAE, interval coverage, and the lineage drift
event -> training run -> MLflow version -> verdict.
"""

from __future__ import annotations

import math
import re
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest

from modelstore.calibration import BoundsStore, CalibratedBounds
from monitoring.bootstrap import build_loop
from retrainer.bootstrap import build_handler
from retrainer.trigger import Trigger
from schemas.monitoring import DriftDetected
from schemas.predictions import request_from_transfer
from schemas.topics import MONITORING_DRIFT, PREDICTIONS_REQUESTS, TRANSFERS_COMPLETED
from stack.kafka_clients import make_producer
from stack.redis_clients import redis_client
from stack.settings import Settings
from tests.api_helpers import RunningApi, wait_until
from tests.api_stack import body, served_api
from tests.flow_helpers import history, publish
from tests.integration.test_drift_monitor import RunningLoop

pytestmark = pytest.mark.integration
WAIT = 120.0
LABELLED = [t for t in history(150, seed=8, start=datetime(2015, 1, 5, tzinfo=UTC)) if t.fee_eur_m > 0]


@pytest.fixture(scope="module")
def api(stack_settings: Settings) -> Iterator[RunningApi]:
    with served_api(stack_settings) as running:
        yield running


@pytest.fixture
def monitor(api: RunningApi) -> Iterator[RunningLoop]:
    runner = RunningLoop(build_loop(api.settings))
    runner.thread.start()
    yield runner
    runner.stop.set()
    runner.thread.join(timeout=30)
    assert not runner.thread.is_alive()


@pytest.fixture
def http(api: RunningApi) -> Iterator[httpx.Client]:
    with api.client() as client:
        assert wait_until(lambda: client.get("/readyz").status_code == 200, WAIT), client.get("/readyz").text
        yield client


def test_the_worker_serves_the_calibrated_interval_it_reads_from_redis(
    api: RunningApi, http: httpx.Client
) -> None:
    """Bounds as the monitor publishes them; the worker's timer reads them; results carry them."""
    low, high = -0.25, 0.5
    client = redis_client(api.settings)
    try:
        store = BoundsStore(client, api.settings.topic_prefix, api.settings.model_name)
        for version in ("1", "2"):
            store.publish(CalibratedBounds(version, 0.8, low, high, 300))
    finally:
        client.close()

    def calibrated() -> bool:
        answer = http.post("/v1/predictions", json=body(5, request_id=f"cal-{uuid.uuid4().hex[:8]}"))
        result = answer.json()
        log_fee = math.log1p(result["predicted_fee_eur_m"])
        return bool(
            math.isclose(result["interval_high"], math.expm1(log_fee + high), rel_tol=1e-9)
            and math.isclose(result["interval_low"], max(0.0, math.expm1(log_fee + low)), rel_tol=1e-9)
        )

    assert wait_until(calibrated, WAIT, interval=0.5)


def test_a_version_shows_its_label_health_and_lineage(
    api: RunningApi, monitor: RunningLoop, http: httpx.Client
) -> None:
    settings = api.settings
    publish(settings, PREDICTIONS_REQUESTS, [request_from_transfer(t) for t in LABELLED])
    monitor.wait(lambda: monitor.loop.monitor.stats.results >= len(LABELLED), "the answers read")
    publish(settings, TRANSFERS_COMPLETED, LABELLED)  # the real fees, later

    def labelled() -> bool:
        health = http.get("/v1/models/1").json().get("health") or {}
        return health.get("labels_received") == len(LABELLED)

    assert wait_until(labelled, WAIT), http.get("/v1/models/1").json()
    one = http.get("/v1/models/1").json()
    health = one["health"]
    # answers without a fee to come (the API's own questions) count as answered, not labelled
    assert health["requests_answered"] >= len(LABELLED)
    assert health["label_share"] == pytest.approx(len(LABELLED) / health["requests_answered"])
    assert 0 <= health["label_delay_p50_s"] <= health["label_delay_p90_s"]
    assert health["live_mae_log"] > 0 and health["live_mae_eur_m"] > 0
    assert 0.0 <= health["interval_coverage"] <= 1.0 and health["interval_labels"] == len(LABELLED)
    assert one["trigger"]["kind"] == "initial" and one["drift_event"] is None
    assert one["mlflow_version"]["version"] == "1" and one["training_run"]["run_id"]
    assert [s["step"] for s in one["steps"]][:2] == ["registered", "promoted"]
    assert one["verdict"]["step"] == "promoted"
    first = one["verdict"]["evidence"]  # nothing to beat: its own validation figures
    assert first["method"] == "first" and first["champion_version"] is None and first["rows"] > 0
    assert first["challenger_mean_error"] > 0 and first["margin"] is None

    text = http.get("/metrics").text
    assert f'mlops_fc_model_labels_received{{version="1"}} {float(len(LABELLED))}' in text
    assert re.search(r'mlops_fc_model_label_share\{version="1"\} (1\.0|0\.[0-9]+)', text)
    assert re.search(r'mlops_fc_model_interval_coverage\{version="1"\} [0-9.]+', text)
    assert re.search(r'mlops_fc_model_label_delay_seconds\{quantile="p90",version="1"\}', text)

    # A drift event goes through the real retrainer: a run in MLflow, version 2, a verdict.
    at = datetime(2015, 2, 1, tzinfo=UTC)
    drift = DriftDetected(
        source="test", model_name=settings.model_name, model_version="1", kind="feature",
        method="evidently:wasserstein", window_start=at, window_end=at, window_size=500, threshold=0.3,
        share_drifted=0.5, scores={"age": 0.4},
    )  # fmt: skip
    publish(settings, MONITORING_DRIFT, [drift])
    retrainer = settings.model_copy(update={"retrain_cooldown_s": 0.0})
    handler = build_handler(retrainer, make_producer(retrainer), threading.Event(), "test-retrainer")
    outcome = handler.handle(Trigger.of(drift))
    assert outcome is not None and outcome.version == "2", outcome

    def verdict_shown() -> bool:
        answer = http.get("/v1/models/2")
        return answer.status_code == 200 and answer.json()["verdict"] is not None

    assert wait_until(verdict_shown, WAIT), http.get("/v1/models/2").text
    two = http.get("/v1/models/2").json()
    assert two["drift_event"]["event_id"] == str(drift.event_id) and two["drift_event"]["kind"] == "feature"
    assert two["trigger"] == {
        "event_id": str(drift.event_id),
        "kind": "feature",
        "drifted_version": "1",
        "found_in_timeline": True,
    }
    assert two["training_run"]["run_id"] and two["mlflow_version"]["version"] == "2"
    assert two["verdict"]["step"] in ("promoted", "rejected") and two["verdict"]["reason"]
    gate = two["verdict"]["evidence"]  # the holdout gate's figures, both models on the same rows
    assert gate["method"] == "holdout" and gate["champion_version"] == "1" and gate["rows"] >= 50
    assert gate["margin"] == settings.retrain_margin and gate["champion_mean_error"] > 0
    assert gate["holdout_from"] <= gate["holdout_to"]
    beat = gate["challenger_mean_error"] <= gate["champion_mean_error"] * (1 - gate["margin"])
    assert two["verdict"]["step"] == ("promoted" if beat else "rejected")

    missing = http.get("/v1/models/77")
    assert missing.status_code == 404 and "model version 77 is not registered" in missing.text
