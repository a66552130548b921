"""The REST facade's routes with fake ports: validation, errors, auth, limits, metrics."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.ports import Services
from schemas.monitoring import DriftDetected
from schemas.records import PlayerRecord, TransferCompleted
from stack.settings import Settings
from tests.api_fakes import FakeModels, FakePredictor, fake_build

KEY = "unit-test-key"
BODY = {
    "player_id": "p-1",
    "position": "CB",
    "from_club": "Club 01",
    "to_club": "Club 02",
    "season": 2024,
    "window": "summer",
}


@pytest.fixture
def settings(tmp_path: Any) -> Settings:
    return Settings(_env_file=None, state_dir=tmp_path, api_key=KEY, api_batch_max=3)  # type: ignore[call-arg,arg-type]


def client_for(settings: Settings, **overrides: Any) -> Iterator[TestClient]:
    with TestClient(create_app(settings, fake_build(**overrides))) as client:
        yield client


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    yield from client_for(settings)


def services(client: TestClient) -> Services:
    return client.app.state.services  # type: ignore[attr-defined,no-any-return]


def test_post_prediction_returns_the_result_with_a_canonical_position(client: TestClient) -> None:
    response = client.post("/v1/predictions", json=BODY)
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["status"] == "ok" and result["predicted_fee_eur_m"] == 12.5
    (asked,) = services(client).predictor.asked  # type: ignore[attr-defined]
    assert asked.position == "Centre-Back" and asked.source == "api"
    assert asked.request_id == result["request_id"] and asked.request_id.startswith("api-")
    # The result is then readable by id.
    again = client.get(f"/v1/predictions/{result['request_id']}")
    assert again.status_code == 200 and again.json()["request_id"] == result["request_id"]


def test_season_and_window_default_from_the_request_time(client: TestClient) -> None:
    body = {k: v for k, v in BODY.items() if k not in ("season", "window")}
    body["requested_at"] = "2025-01-15T12:00:00+00:00"
    assert client.post("/v1/predictions", json=body).status_code == 200
    (asked,) = services(client).predictor.asked  # type: ignore[attr-defined]
    assert (asked.season, asked.window) == (2024, "winter")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"age": 60}, "body.age"),
        ({"position": "striker-ish"}, "body.position"),
        ({"window": "spring"}, "body.window"),
        ({"player_id": ""}, "body.player_id"),
        ({"requested_at": "2025-01-15T12:00:00"}, "body.requested_at"),  # no time zone
        ({"surprise": 1}, "body.surprise"),
        ({"request_id": "has spaces"}, "body.request_id"),
    ],
)
def test_a_bad_body_is_422_naming_the_field(client: TestClient, change: dict[str, Any], field: str) -> None:
    response = client.post("/v1/predictions", json={**BODY, **change})
    assert response.status_code == 422
    assert field in response.json()["fields"], response.json()
    assert field in response.json()["message"]


def test_a_missing_field_is_422_naming_it(client: TestClient) -> None:
    body = {k: v for k, v in BODY.items() if k != "from_club"}
    response = client.post("/v1/predictions", json=body)
    assert response.status_code == 422 and response.json()["fields"] == ["body.from_club"]


def test_timeout_answers_202_with_the_url_to_poll(settings: Settings) -> None:
    for client in client_for(settings):
        services(client).predictor.answering = False  # type: ignore[attr-defined]
        response = client.post("/v1/predictions", json={**BODY, "request_id": "slow-1"})
        assert response.status_code == 202
        assert response.headers["location"] == "/v1/predictions/slow-1"
        assert response.json() == {
            "request_id": "slow-1",
            "status": "pending",
            "location": "/v1/predictions/slow-1",
        }
        assert client.get("/v1/predictions/slow-1").status_code == 202
        assert "mlops_fc_api_prediction_timeouts_total 1.0" in client.get("/metrics").text


def test_unknown_prediction_is_404(client: TestClient) -> None:
    assert client.get("/v1/predictions/never-asked").status_code == 404


def test_batch_answers_each_request_and_refuses_too_many(client: TestClient) -> None:
    bodies = [{**BODY, "request_id": f"b-{i}"} for i in range(3)]
    response = client.post("/v1/predictions/batch", json={"requests": bodies})
    assert response.status_code == 200
    assert [r["request_id"] for r in response.json()["results"]] == ["b-0", "b-1", "b-2"]
    too_many = client.post("/v1/predictions/batch", json={"requests": bodies + bodies[:1]})
    assert too_many.status_code == 422 and "requests" in str(too_many.json())
    bad = client.post("/v1/predictions/batch", json={"requests": [BODY, {**BODY, "age": 3}]})
    assert bad.status_code == 422 and "body.requests.1.age" in bad.json()["fields"]
    assert client.post("/v1/predictions/batch", json={"requests": []}).status_code == 422


def test_batch_with_timeouts_is_202_listing_the_pending(settings: Settings) -> None:
    for client in client_for(settings):
        services(client).predictor.answering = False  # type: ignore[attr-defined]
        response = client.post("/v1/predictions/batch", json={"requests": [{**BODY, "request_id": "x-1"}]})
        assert response.status_code == 202
        assert response.json()["pending"] == [
            {"request_id": "x-1", "status": "pending", "location": "/v1/predictions/x-1"}
        ]


def test_body_over_the_limit_is_413(settings: Settings) -> None:
    for client in client_for(settings.model_copy(update={"api_max_body_bytes": 2048})):
        big = {**BODY, "player_name": "x" * 4000}
        assert client.post("/v1/predictions", json=big).status_code == 413

        def chunks() -> Iterator[bytes]:  # no Content-Length: counted while streaming
            yield b'{"player_id": "'
            for _ in range(10):
                yield b"y" * 500
            yield b'"}'

        streamed = client.post(
            "/v1/predictions", content=chunks(), headers={"content-type": "application/json"}
        )
        assert streamed.status_code == 413


def test_players_endpoint_shows_the_record_and_features(client: TestClient) -> None:
    replica = services(client).replica
    at = datetime(2024, 7, 1, tzinfo=UTC)
    replica.apply(
        PlayerRecord(
            source="t", player_id="p-9", name="Nine", age=24, position="Left Winger", club="Club 05", as_of=at
        )
    )
    replica.apply(
        TransferCompleted(
            source="t", transfer_id="tr-1", player_id="p-9", player_name="Nine", age=24,
            position="Left Winger", from_club="Club 05", to_club="Club 07", season=2024, window="summer",
            transferred_at=datetime(2024, 8, 1, tzinfo=UTC), fee_eur_m=20.0,
        )
    )  # fmt: skip
    response = client.get("/v1/players/p-9", params={"to_club": "Club 01"})
    assert response.status_code == 200
    body = response.json()
    assert body["record"]["event_type"] == "TransferCompleted" and body["record"]["to_club"] == "Club 07"
    assert body["transfers"] == 1 and body["features"]["player_paid_moves"] == 1.0
    assert body["features_for"]["from_club"] == "Club 07" and body["features_for"]["to_club"] == "Club 01"
    assert client.get("/v1/players/nobody").status_code == 404


def test_models_listing_and_current(settings: Settings) -> None:
    for client in client_for(settings):
        listed = client.get("/v1/models").json()
        assert listed["champion"] == "2" and [v["version"] for v in listed["versions"]] == ["1", "2"]
        assert client.get("/v1/models/current").json()["version"] == "2"
    for client in client_for(settings, models=FakeModels(champion=None)):
        assert client.get("/v1/models/current").status_code == 404


def test_promote_and_rollback_need_the_api_key(client: TestClient) -> None:
    models = services(client).models
    assert client.post("/v1/models/1/promote").status_code == 401
    assert client.post("/v1/models/1/rollback", headers={"X-API-Key": "wrong"}).status_code == 401
    assert models.changes == []  # type: ignore[attr-defined]
    ok = client.post("/v1/models/1/rollback", headers={"X-API-Key": KEY}, json={"reason": "bad week"})
    assert ok.status_code == 200 and ok.json()["to_version"] == "1"
    assert client.post("/v1/models/2/promote", headers={"X-API-Key": KEY}).status_code == 200
    assert models.changes == [  # type: ignore[attr-defined]
        ("rollback", "1", "bad week"),
        ("promote", "2", "changed through the REST facade"),
    ]  # type: ignore[attr-defined]
    assert client.post("/v1/models/9/promote", headers={"X-API-Key": KEY}).status_code == 404
    assert client.post("/v1/models/abc/promote", headers={"X-API-Key": KEY}).status_code == 422


def test_rollback_without_a_champion_is_409(settings: Settings) -> None:
    for client in client_for(settings, models=FakeModels(champion=None)):
        assert client.post("/v1/models/1/rollback", headers={"X-API-Key": KEY}).status_code == 409


def test_drift_events_link_their_reports(client: TestClient, settings: Settings) -> None:
    at = datetime(2024, 7, 1, tzinfo=UTC)
    events = [
        DriftDetected(
            source="t", model_name="m", model_version="1", kind="feature", method="evidently",
            window_start=at, window_end=at, window_size=500, threshold=0.3, share_drifted=0.5,
        )
        for _ in range(2)
    ]  # fmt: skip
    for event in events:
        services(client).replica.apply(event)
    reports = settings.state_dir / "reports"
    reports.mkdir()
    (reports / f"{events[0].event_id}.html").write_text("<html>drift</html>")
    listed = client.get("/v1/drift").json()["events"]
    assert [e["event_id"] for e in listed] == [str(events[1].event_id), str(events[0].event_id)]
    assert listed[0]["report_url"] is None
    assert listed[1]["report_url"] == f"/v1/drift/{events[0].event_id}/report"
    report = client.get(listed[1]["report_url"])
    assert report.status_code == 200 and "drift" in report.text
    assert client.get(f"/v1/drift/{events[1].event_id}/report").status_code == 404
    assert client.get("/v1/drift/not-a-uuid/report").status_code == 422
    timeline = client.get("/v1/timeline").json()
    assert len(timeline["events"]) == 2


def test_a_missing_report_says_whether_it_is_coming(client: TestClient) -> None:
    def drift(**changes: Any) -> DriftDetected:
        at = datetime(2024, 7, 1, tzinfo=UTC)
        fields: dict[str, Any] = {
            "source": "t", "model_name": "m", "model_version": "1", "kind": "feature", "method": "evidently",
            "window_start": at, "window_end": at, "window_size": 500, "threshold": 0.3, "share_drifted": 0.5,
        }  # fmt: skip
        return DriftDetected(**{**fields, **changes})

    fresh = drift(report_uri="reports/fresh.html")  # just sent: the monitor writes its HTML now
    old = drift(report_uri="reports/old.html", occurred_at=datetime.now(UTC) - timedelta(hours=2))
    performance = drift(kind="performance", method="online-mae", online_error=0.9, reference_error=0.5)
    for event in (fresh, old, performance):
        services(client).replica.apply(event)
    coming = client.get(f"/v1/drift/{fresh.event_id}/report")
    assert coming.status_code == 404 and coming.headers["retry-after"] == "5"
    assert f"the report of drift event {fresh.event_id} is being written" in coming.json()["detail"]
    gone = client.get(f"/v1/drift/{old.event_id}/report")
    assert gone.status_code == 404 and "retry-after" not in gone.headers
    assert "keeps the newest 200" in gone.json()["detail"]
    none = client.get(f"/v1/drift/{performance.event_id}/report").json()["detail"]
    assert "(performance drift) has no report" in none
    unknown = uuid4()
    assert client.get(f"/v1/drift/{unknown}/report").json()["detail"].startswith(f"no drift event {unknown}")


def test_topic_messages_404_for_unknown_topic(client: TestClient) -> None:
    assert client.get("/v1/flows/topics/predictions.results/messages").status_code == 200
    assert client.get("/v1/flows/topics/nope/messages").status_code == 404


def test_health_ready_metrics_docs_and_ui(settings: Settings) -> None:
    for client in client_for(settings):
        health = client.get("/healthz")
        assert health.json() == {"status": "ok", "threads": {"results_reader": True, "replica_reader": True}}
        timing = health.headers["server-timing"]  # time spent in the facade, for clients
        assert timing.startswith("app;dur=") and float(timing.removeprefix("app;dur=")) >= 0
        ready = client.get("/readyz")
        assert ready.status_code == 200 and ready.json()["model_version"] == "2"
        text = client.get("/metrics").text
        assert 'mlops_fc_api_requests_total{method="GET",route="/readyz",status="200"} 1.0' in text
        assert "mlops_fc_api_request_seconds_bucket" in text
        assert client.get("/docs").status_code == 200
        assert "/v1/predictions" in client.get("/openapi.json").json()["paths"]
        ui = client.get("/ui")
        assert ui.status_code == 200 and "<html" in ui.text.lower()
    for client in client_for(settings, models=FakeModels(champion=None)):
        not_ready = client.get("/readyz")
        assert not_ready.status_code == 503 and not_ready.json()["checks"]["model"] is False


def test_cors_allows_only_the_configured_origins(settings: Settings) -> None:
    configured = settings.model_copy(update={"api_cors_origins": ("http://allowed.example",)})
    for client in client_for(configured):
        allowed = client.options(
            "/v1/predictions",
            headers={"Origin": "http://allowed.example", "Access-Control-Request-Method": "POST"},
        )
        assert allowed.headers.get("access-control-allow-origin") == "http://allowed.example"
        other = client.get("/healthz", headers={"Origin": "http://evil.example"})
        assert "access-control-allow-origin" not in other.headers


def test_same_request_id_is_answered_from_the_store(client: TestClient) -> None:
    first = client.post("/v1/predictions", json={**BODY, "request_id": "same-1"}).json()
    predictor: FakePredictor = services(client).predictor  # type: ignore[assignment]
    assert client.get("/v1/predictions/same-1").json()["event_id"] == first["event_id"]
    assert len(predictor.asked) == 1


HEALTH = {
    "2": {
        "requests_answered": 40, "labels_received": 30, "label_share": 0.75, "label_delay_p50_s": 2.0,
        "label_delay_p90_s": 9.0, "live_mae_log": 0.5, "live_mae_eur_m": 1.5, "interval_coverage": 0.8,
        "interval_labels": 30, "calibrated": None,
    }
}  # fmt: skip


def test_a_model_version_shows_its_health_and_lineage_and_an_unknown_one_is_404(settings: Settings) -> None:
    for client in client_for(settings, label_health=lambda: HEALTH):
        at = datetime(2030, 1, 1, tzinfo=UTC)
        drift = DriftDetected(
            source="t", model_name="m", model_version="1", kind="performance", method="mae_ratio",
            window_start=at, window_end=at, window_size=150, threshold=1.3, online_error=0.9,
            reference_error=0.5, scores={"mae_ratio": 1.8},
        )  # fmt: skip
        # the fake registry says version 2's run was triggered by "drift-2"
        services(client).replica.apply(drift)
        shown = client.get("/v1/models/2").json()
        assert shown["health"] == HEALTH["2"] and shown["trigger"]["event_id"] == "drift-2"
        assert shown["training_run"]["run_id"] == "run-2" and shown["mlflow_version"]["champion"] is True
        assert shown["drift_event"] is None and shown["trigger"]["found_in_timeline"] is False
        missing = client.get("/v1/models/77")
        assert missing.status_code == 404 and "model version 77 is not registered" in missing.text
        assert client.get("/v1/models/current").status_code == 200  # still its own route
        services(client).metrics.state.label_health = lambda: HEALTH  # api/bootstrap.py wires the real one
        text = client.get("/metrics").text
        assert 'mlops_fc_model_labels_received{version="2"} 30.0' in text
        assert 'mlops_fc_model_label_delay_seconds{quantile="p90",version="2"} 9.0' in text
        assert 'mlops_fc_model_interval_coverage{version="2"} 0.8' in text


def test_the_shadow_slot_is_served_with_its_pairs_so_far_and_null_without_one(settings: Settings) -> None:
    for client in client_for(settings, models=FakeModels()):
        assert client.get("/v1/models/shadow").json() == {"shadow": None}
    slot = {
        "version": "3",
        "role": "challenger",
        "champion": "2",
        "since": "2026-01-01T00:00:00+00:00",
        "pairs": 41,
    }
    for client in client_for(settings, models=FakeModels(in_shadow=slot)):
        response = client.get("/v1/models/shadow")
        assert response.status_code == 200 and response.json() == {"shadow": slot}
