"""Every endpoint of the facade on the real stack: a worker scoring, MLflow, Kafka, Redis."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest

from schemas.monitoring import DriftDetected
from schemas.records import PlayerRecord
from schemas.topics import MONITORING_DRIFT, PLAYERS_RECORDS
from stack.settings import Settings
from tests.api_helpers import API_KEY, RunningApi, wait_until
from tests.api_stack import body, served_api
from tests.flow_helpers import publish

pytestmark = pytest.mark.integration
WAIT = 120.0


@pytest.fixture(scope="module")
def api(stack_settings: Settings) -> Iterator[RunningApi]:
    with served_api(stack_settings) as running:
        yield running


@pytest.fixture
def http(api: RunningApi) -> Iterator[httpx.Client]:
    with api.client() as client:
        assert wait_until(lambda: client.get("/readyz").status_code == 200, WAIT), client.get("/readyz").text
        yield client


def test_prediction_round_trip_through_the_worker(http: httpx.Client) -> None:
    response = http.post("/v1/predictions", json=body(1, request_id="it-1", position="cb"))
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["request_id"] == "it-1" and result["status"] == "ok" and result["model_version"] == "1"
    assert result["source"] == "inference-worker/w1" and result["predicted_fee_eur_m"] > 0
    assert http.get("/v1/predictions/it-1").json()["event_id"] == result["event_id"]
    assert http.get("/v1/predictions/it-unknown").status_code == 404


def test_batch_round_trip(http: httpx.Client) -> None:
    bodies = [body(i, request_id=f"batch-{uuid.uuid4().hex[:8]}-{i}") for i in range(20)]
    response = http.post("/v1/predictions/batch", json={"requests": bodies})
    assert response.status_code == 200, response.text
    assert [r["request_id"] for r in response.json()["results"]] == [b["request_id"] for b in bodies]
    assert response.json()["pending"] == []


def test_errors_422_401_404(http: httpx.Client) -> None:
    bad = http.post("/v1/predictions", json=body(age=99))
    assert bad.status_code == 422 and bad.json()["fields"] == ["body.age"]
    assert http.post("/v1/models/1/promote").status_code == 401
    assert http.post("/v1/models/1/rollback", headers={"X-API-Key": "nope"}).status_code == 401
    assert http.post("/v1/models/77/promote", headers={"X-API-Key": API_KEY}).status_code == 404
    assert http.get("/v1/players/nobody-at-all").status_code == 404
    assert http.get("/v1/flows/topics/not.a.topic/messages").status_code == 404
    assert http.get(f"/v1/drift/{uuid.uuid4()}/report").status_code == 404


def test_models_listing_promote_and_rollback(api: RunningApi, http: httpx.Client) -> None:
    listed = http.get("/v1/models").json()
    assert listed["champion"] == "1"
    (version,) = listed["versions"]
    assert version["champion"] and version["servable"] and "val_mae_log" in version["metrics"]
    current = http.get("/v1/models/current").json()
    assert current["version"] == "1" and current["redis_current"] == "1"
    key = {"X-API-Key": API_KEY}
    promoted = http.post("/v1/models/1/promote", headers=key, json={"reason": "by the test"})
    assert promoted.status_code == 200, promoted.text
    assert promoted.json()["event_type"] == "ModelPromoted" and promoted.json()["source"] == "api"
    rolled = http.post("/v1/models/1/rollback", headers=key)
    assert rolled.status_code == 200 and rolled.json()["to_version"] == "1"

    def timeline_has_both() -> bool:
        events = http.get("/v1/timeline").json()["events"]
        return {"ModelPromoted", "ModelRolledBack"} <= {
            e["event_type"] for e in events if e["source"] == "api"
        }

    assert wait_until(timeline_has_both, WAIT)


def test_players_fold_records_and_transfers(api: RunningApi, http: httpx.Client) -> None:
    record = PlayerRecord(
        source="test", player_id="p7-3", name="Three", age=27, position="Left Winger", club="Club 11",
        as_of=datetime(2030, 1, 1, tzinfo=UTC),
    )  # fmt: skip
    publish(api.settings, PLAYERS_RECORDS, [record])
    assert wait_until(
        lambda: http.get("/v1/players/p7-3").json()["record"]["event_type"] == "PlayerRecord", WAIT
    )
    player = http.get("/v1/players/p7-3", params={"to_club": "Club 02"}).json()
    assert player["record"]["club"] == "Club 11" and player["transfers"] > 0
    assert player["features"]["player_moves"] == player["transfers"]
    assert player["features_for"] == {**player["features_for"], "from_club": "Club 11", "to_club": "Club 02"}


def test_drift_events_and_their_reports(api: RunningApi, http: httpx.Client) -> None:
    at = datetime(2030, 1, 1, tzinfo=UTC)
    event = DriftDetected(
        source="test", model_name=api.settings.model_name, model_version="1", kind="feature",
        method="evidently:wasserstein", window_start=at, window_end=at, window_size=500, threshold=0.2,
        share_drifted=0.4, scores={"age": 0.3}, report_uri="reports/x.html",
    )  # fmt: skip
    reports = api.settings.state_dir / "reports"
    reports.mkdir(parents=True, exist_ok=True)
    (reports / f"{event.event_id}.html").write_text("<html><body>evidently report</body></html>")
    publish(api.settings, MONITORING_DRIFT, [event])
    assert wait_until(lambda: http.get("/v1/drift").json()["events"], WAIT)
    (shown,) = http.get("/v1/drift").json()["events"]
    assert shown["event_id"] == str(event.event_id) and shown["kind"] == "feature"
    report = http.get(shown["report_url"])
    assert report.status_code == 200 and "evidently report" in report.text
    assert 'mlops_fc_drift_events{kind="feature"} 1.0' in http.get("/metrics").text


def test_flows_show_topics_rates_and_worker_lag(api: RunningApi, http: httpx.Client) -> None:
    http.post("/v1/predictions", json=body(2))
    worker_group = f"{api.settings.topic_prefix}{api.settings.worker_app_id}"

    def worker_listed() -> bool:
        flows = http.get("/v1/flows").json()
        groups = {g["group_id"]: g for g in flows["groups"]}
        topics = {t["name"]: t for t in flows["topics"]}
        return (
            worker_group in groups
            and any(t["topic"] == "predictions.requests" for t in groups[worker_group]["topics"])
            and topics.get("predictions.results", {}).get("rate_per_s") is not None
        )

    assert wait_until(worker_listed, WAIT), http.get("/v1/flows").json()
    flows = http.get("/v1/flows").json()
    topics = {t["name"]: t for t in flows["topics"]}
    assert topics["transfers.completed"]["end_offset"] == 600
    assert len(topics["predictions.requests"]["partitions"]) == api.settings.topic_partitions
    group = next(g for g in flows["groups"] if g["group_id"] == worker_group)
    assert group["service"] == "worker" and group["lag"] >= 0
    edges = {(e["from"], e["to"]): e for e in flows["graph"]["edges"]}
    assert edges[("predictions.requests", "worker")]["lag"] is not None
    assert re.search(r'mlops_fc_consumer_lag\{group="[^"]+",topic="', http.get("/metrics").text)


def test_latest_messages_of_a_topic_are_decoded(http: httpx.Client) -> None:
    http.post("/v1/predictions", json=body(3, request_id="peek-1"))
    messages = http.get("/v1/flows/topics/predictions.results/messages", params={"limit": 200}).json()[
        "messages"
    ]
    assert any(m["event"]["request_id"] == "peek-1" for m in messages)
    assert all(m["event_type"] == "PredictionResult" and m["error"] is None for m in messages)
    assert (
        len(http.get("/v1/flows/topics/transfers.completed/messages", params={"limit": 5}).json()["messages"])
        == 5
    )


def test_health_ready_and_metrics(http: httpx.Client) -> None:
    health = http.get("/healthz").json()
    assert health["status"] == "ok" and set(health["threads"]) == {
        "results_reader",
        "replica_reader",
        "flows_sampler",
        "serving_watch",
    }
    ready = http.get("/readyz").json()
    assert ready["ready"] and ready["checks"] == {
        "kafka": True,
        "redis": True,
        "model": True,
        "results_reader": True,
    }
    http.post("/v1/predictions", json=body(4))
    text = http.get("/metrics").text
    assert 'mlops_fc_prediction_results_total{status="ok",worker="inference-worker/w1"}' in text
    assert "mlops_fc_model_version 1.0" in text
    assert 'mlops_fc_api_requests_total{method="POST",route="/v1/predictions",status="200"}' in text
    assert http.get("/docs").status_code == 200 and http.get("/ui").status_code == 200
