"""The facade's request-reply and result store on the real broker and Redis, the test playing
the worker: 202 then a result by id, first result wins, the sink stores any client's results."""

from __future__ import annotations

import threading
import uuid

import pytest

from consumers.result_store import RedisResultStore
from consumers.sink import build_sink
from schemas.codec import decode
from schemas.deadletters import DeadLetter
from schemas.predictions import PredictionRequest, PredictionResult
from schemas.topics import DEAD_LETTERS, PREDICTIONS_RESULTS
from stack.kafka_clients import make_producer
from stack.redis_clients import redis_client
from stack.settings import Settings
from tests.api_helpers import running_api, wait_until
from tests.flow_helpers import publish
from tests.kafka_helpers import consume_until

pytestmark = pytest.mark.integration
BODY = {
    "player_id": "p-1",
    "position": "CB",
    "from_club": "A",
    "to_club": "B",
    "season": 2024,
    "window": "summer",
}


def result_for(request_id: str, fee: float, source: str = "fake-worker") -> PredictionResult:
    return PredictionResult(
        source=source, request_id=request_id, player_id="p-1", status="ok", predicted_fee_eur_m=fee,
        model_name="transfer-fee", model_version="1",
    )  # fmt: skip


def read_requests(settings: Settings, count: int) -> list[PredictionRequest]:
    messages = consume_until(settings, settings.topic("predictions.requests"), lambda ms: len(ms) >= count)
    return [decode(m.value(), m.headers(), expected=PredictionRequest) for m in messages]


def test_timeout_then_lookup_and_the_first_result_wins(settings: Settings) -> None:
    with running_api(settings, api_result_timeout_s=0.5) as api, api.client() as http:
        response = http.post("/v1/predictions", json={**BODY, "request_id": "late-1"})
        assert response.status_code == 202, response.text
        assert response.headers["location"] == "/v1/predictions/late-1"
        assert http.get("/v1/predictions/late-1").status_code == 202  # published here, not answered yet
        (request,) = read_requests(settings, 1)
        assert request.request_id == "late-1" and request.position == "Centre-Back"
        publish(settings, PREDICTIONS_RESULTS, [result_for("late-1", 7.0), result_for("late-1", 99.0)])
        assert wait_until(lambda: http.get("/v1/predictions/late-1").status_code == 200, 30)
        assert http.get("/v1/predictions/late-1").json()["predicted_fee_eur_m"] == 7.0
        # Asked again with the same id: answered from the store, not published again.
        again = http.post("/v1/predictions", json={**BODY, "request_id": "late-1"})
        assert again.status_code == 200 and again.json()["predicted_fee_eur_m"] == 7.0
        assert http.get("/v1/predictions/never-asked").status_code == 404
    assert len(read_requests(settings, 1)) == 1


def test_a_result_arriving_in_time_is_returned_to_its_caller(settings: Settings) -> None:
    with running_api(settings) as api, api.client() as http:

        def fake_worker() -> None:
            (request,) = read_requests(settings, 1)
            publish(settings, PREDICTIONS_RESULTS, [result_for(request.request_id, 3.5)])

        worker = threading.Thread(target=fake_worker)
        worker.start()
        response = http.post("/v1/predictions", json=BODY)
        worker.join()
        assert response.status_code == 200, response.text
        assert response.json()["predicted_fee_eur_m"] == 3.5
        assert response.json()["request_id"].startswith("api-")


def test_sink_stores_any_clients_results_and_dead_letters_garbage(settings: Settings) -> None:
    sink = build_sink(settings)
    stop = threading.Event()
    runner = threading.Thread(target=sink.run, args=(stop,))
    runner.start()
    try:
        rid = f"kcat-{uuid.uuid4()}"
        publish(settings, PREDICTIONS_RESULTS, [result_for(rid, 1.0), result_for(rid, 2.0)])
        producer = make_producer(settings)
        producer.produce(settings.topic(PREDICTIONS_RESULTS.name), key=b"x", value=b"{not json")
        assert producer.flush(30) == 0
        store = RedisResultStore(redis_client(settings), settings.topic_prefix)
        assert wait_until(lambda: store.get(rid) is not None, 30)
        assert store.get(rid).predicted_fee_eur_m == 1.0  # type: ignore[union-attr]
        letters = consume_until(settings, settings.topic(DEAD_LETTERS.name), lambda ms: len(ms) >= 1)
        letter = decode(letters[0].value(), letters[0].headers(), expected=DeadLetter)
        assert letter.raw_value() == b"{not json" and letter.source == "result-sink"
    finally:
        stop.set()
        runner.join(30)
    ttl = redis_client(settings).ttl(f"{settings.topic_prefix}result:{rid}")
    assert 0 < ttl <= settings.result_ttl_s
