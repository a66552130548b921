"""The facade's answers around outages and odd input: 503 not 500, 422 naming the field,
/healthz failing on a dead thread, /readyz telling what the workers serve."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.serving import ServingView
from consumers.exceptions import PublishError, StoreUnavailable
from consumers.result_store import InMemoryResultStore
from consumers.worker_beats import WorkerBeat
from schemas.predictions import PredictionRequest, PredictionResult
from stack.settings import Settings
from tests.api_fakes import FakeModels, FakePredictor, FakeReadiness, FakeServing, fake_build

BODY = {
    "player_id": "p-1",
    "position": "CB",
    "from_club": "Club 01",
    "to_club": "Club 02",
    "season": 2024,
    "window": "summer",
}


class DownStore(InMemoryResultStore):
    """Redis stopped: every call fails as RedisResultStore fails."""

    def put_many(self, results: Sequence[PredictionResult]) -> int:
        raise StoreUnavailable("Redis did not answer (storing results): connection refused")

    def get_many(self, request_ids: Sequence[str]) -> dict[str, PredictionResult]:
        raise StoreUnavailable("Redis did not answer (reading results): connection refused")

    async def lookup(self, request_ids: Sequence[str]) -> dict[str, PredictionResult]:
        return self.get_many(request_ids)

    def ping(self) -> bool:
        return False


@pytest.fixture
def settings(tmp_path: Any) -> Settings:
    return Settings(_env_file=None, state_dir=tmp_path, api_key="unit-test-key")  # type: ignore[call-arg,arg-type]


def client_for(settings: Settings, **overrides: Any) -> Iterator[TestClient]:
    with TestClient(create_app(settings, fake_build(**overrides))) as client:
        yield client


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"market_value_eur_m": float("nan")}, "body.market_value_eur_m"),
        ({"market_value_eur_m": float("inf")}, "body.market_value_eur_m"),
        ({"market_value_eur_m": False}, "body.market_value_eur_m"),
        ({"market_value_eur_m": True}, "body.market_value_eur_m"),
        ({"requested_at": "0001-01-01T00:00:00+01:00"}, "body.requested_at"),
        ({"requested_at": "9999-12-31T23:59:59-01:00"}, "body.requested_at"),
        ({"requested_at": "9999-12-31T23:59:59+00:00"}, "body.requested_at"),
    ],
)
def test_odd_values_are_422_naming_the_field(settings: Settings, change: dict[str, Any], field: str) -> None:
    for client in client_for(settings):
        # json.dumps writes NaN and Infinity, as a careless client would.
        raw = json.dumps({**BODY, **change})
        response = client.post("/v1/predictions", content=raw, headers={"content-type": "application/json"})
        assert response.status_code == 422, response.text
        assert response.json()["fields"] == [field]


def test_a_market_value_as_a_number_is_still_taken(settings: Settings) -> None:
    for client in client_for(settings):
        for value in (12, 12.5, 0):
            assert (
                client.post("/v1/predictions", json={**BODY, "market_value_eur_m": value}).status_code == 200
            )


def test_redis_down_is_503_for_lookups_never_500(settings: Settings) -> None:
    store = DownStore()
    for client in client_for(settings, store=store, predictor=FakePredictor(store)):
        post = client.post("/v1/predictions", json={**BODY, "request_id": "known-1"})
        assert post.status_code == 503 and "Redis" in post.json()["detail"]
        assert post.headers["retry-after"] == "1"
        assert client.get("/v1/predictions/known-1").status_code == 503
        ready = client.get("/readyz")
        assert ready.status_code == 503 and ready.json()["checks"]["redis"] is False


def test_healthz_fails_when_a_thread_it_depends_on_is_dead(settings: Settings) -> None:
    readiness = FakeReadiness()
    for client in client_for(settings, readiness=readiness):
        assert client.get("/healthz").status_code == 200
        readiness.alive["results_reader"] = False
        dead = client.get("/healthz")
        assert dead.status_code == 503
        assert dead.json() == {
            "status": "failing",
            "threads": {"results_reader": False, "replica_reader": True},
        }


def test_the_503s_of_readyz_and_healthz_are_documented(settings: Settings) -> None:
    for client in client_for(settings):
        paths = client.get("/openapi.json").json()["paths"]
        for path in ("/readyz", "/healthz"):
            assert "503" in paths[path]["get"]["responses"], path
        assert "503" in paths["/v1/predictions/{request_id}"]["get"]["responses"]


def _beat(worker: str, version: str | None) -> WorkerBeat:
    return WorkerBeat(
        worker=worker, model_name="transfer-fee", model_version=version, updated_at=datetime.now(UTC)
    )


def test_readyz_reports_what_the_workers_serve(settings: Settings) -> None:
    serving = FakeServing()
    for client in client_for(settings, serving=serving):
        serving.view = ServingView(1.0, "2", "2", (_beat("w1", None),), workers_reporting=True)
        not_ready = client.get("/readyz")  # the pointer is set, but the one worker has no model
        assert not_ready.status_code == 503 and not_ready.json()["checks"]["model"] is False
        assert not_ready.json()["serving"]["workers"][0]["worker"] == "w1"

        serving.view = ServingView(
            1.0, "2", "2", (_beat("w1", "1"), _beat("w2", "2")), workers_reporting=True, disagreement=True
        )
        ready = client.get("/readyz")
        assert ready.status_code == 200
        assert ready.json()["serving"]["serving_versions"] == ["1", "2"]
        assert ready.json()["serving"]["disagreement"] is True
        current = client.get("/v1/models/current").json()
        assert current["version"] == "2" and current["serving"]["disagreement"] is True


def test_before_any_worker_heartbeat_the_pointer_decides(settings: Settings) -> None:
    serving = FakeServing(ServingView(1.0, "2", "2", (), workers_reporting=False))
    for client in client_for(settings, serving=serving):
        ready = client.get("/readyz").json()
        assert ready["checks"]["model"] is True and ready["serving"]["workers"] is None
    serving = FakeServing(ServingView(1.0, None, None, (), workers_reporting=False))
    for client in client_for(settings, serving=serving, models=FakeModels(champion=None)):
        assert client.get("/readyz").json()["checks"]["model"] is False


class UnconfirmedPredictor(FakePredictor):
    """Kafka did not confirm the publish in time: as Publisher raises after its timeout."""

    async def ask_many(
        self, requests: list[PredictionRequest], timeout_s: float, check_store: bool = True
    ) -> list[PredictionResult | None]:
        self.asked.extend(requests)
        raise PublishError("1 message(s) not confirmed within 30.0s")


def test_an_unconfirmed_publish_is_503_with_the_ids_to_ask_again(settings: Settings) -> None:
    predictor = UnconfirmedPredictor(InMemoryResultStore())
    for client in client_for(settings, predictor=predictor):
        one = client.post("/v1/predictions", json=BODY)
        given = client.post(
            "/v1/predictions/batch", json={"requests": [BODY, {**BODY, "request_id": "mine-1"}]}
        )
    assert one.status_code == 503 and one.headers["retry-after"] == "1", one.text
    made_up = predictor.asked[0].request_id
    assert one.json()["request_ids"] == [made_up] and "same request_id" in one.json()["detail"]
    assert given.status_code == 503
    assert given.json()["request_ids"] == [predictor.asked[1].request_id, "mine-1"]
