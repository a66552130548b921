"""A worker's Prometheus /metrics on the real stack: counts match what went through Kafka."""

from __future__ import annotations

import json
import socket
from datetime import datetime, timedelta

from typer.testing import CliRunner

from cli.main import app as cli
from consumers.worker_beats import WorkerBeats
from devstack.processes import free_port
from devstack.services import settings_env, start_service
from inference.heartbeat import heartbeat_key
from schemas.topics import PREDICTIONS_REQUESTS
from stack.kafka_clients import make_producer
from stack.redis_clients import redis_client
from stack.settings import Settings
from tests.api_helpers import wait_until
from tests.e2e.test_worker_flow import requests
from tests.flow_helpers import collecting, publish, sample, scrape


def test_worker_metrics_count_results_dead_letters_model_and_lag(served: Settings) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/metrics"
    asked = requests(60, "metrics")
    worker = start_service(
        served,
        "w-metrics",
        "worker",
        "--name",
        "w-metrics",
        "--loglevel",
        "info",
        "--metrics-port",
        str(port),
    )
    try:
        with collecting(served) as results:
            publish(served, PREDICTIONS_REQUESTS, asked)
            producer = make_producer(served)
            for i in range(3):  # not JSON: three dead letters, nothing scored
                producer.produce(served.topic(PREDICTIONS_REQUESTS.name), key=f"bad-{i}", value=b"{oops")
            assert producer.flush(30) == 0
            missing = results.wait_for_ids([r.request_id for r in asked], 180)
            assert not missing, worker.log_tail()

        def settled() -> bool:
            samples = scrape(url)
            return (
                sample(samples, "mlops_fc_worker_results_total", status="ok") == len(asked)
                and sample(samples, "mlops_fc_worker_lag", topic="predictions.requests") == 0
            )

        assert wait_until(settled, 30, interval=0.5), scrape(url)
        samples = scrape(url)
        # The heartbeat the API's readiness reads: this worker, serving version 1.
        store = redis_client(served)
        key = heartbeat_key(served.topic_prefix, "w-metrics")
        assert wait_until(lambda: store.get(key) is not None, 30, interval=0.5)
        beat = json.loads(store.get(key) or b"{}")
        ttl = store.ttl(key)
        # Read by this deployment's facade; another stack on the same Redis does not see it.
        ours = WorkerBeats(store, served.model_name, 30, served.topic_prefix).read()
        theirs = WorkerBeats(store, served.model_name, 30, f"other-{served.topic_prefix}").read()
    finally:
        worker.stop()
    assert {k: v for k, v in beat.items() if k != "updated_at"} == {
        "worker": "w-metrics",
        "model_name": served.model_name,
        "model_version": "1",
    }
    assert datetime.fromisoformat(beat["updated_at"]).utcoffset() == timedelta(0)
    assert 0 < ttl <= 3 * served.worker_heartbeat_s
    assert [b.worker for b in ours] == ["w-metrics"] and theirs == []
    assert sample(samples, "mlops_fc_worker_info", worker="w-metrics") == 1
    assert sample(samples, "mlops_fc_worker_model_version") == 1
    assert sample(samples, "mlops_fc_worker_model_swaps_total") == 1  # the first model
    assert sample(samples, "mlops_fc_worker_models_refused_total") == 0
    assert sample(samples, "mlops_fc_worker_request_seconds_count") == len(asked)
    batches = sample(samples, "mlops_fc_worker_batch_size_count")
    assert batches is not None and 1 <= batches <= len(asked)
    assert sample(samples, "mlops_fc_worker_batch_size_sum") == len(asked)
    dead = sample(
        samples,
        "mlops_fc_worker_dead_letters_total",
        topic="predictions.requests",
        error_type="SchemaDecodeError",
    )
    assert dead == 3


def test_a_taken_metrics_port_stops_the_worker_with_a_clear_error(settings: Settings) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        outcome = CliRunner().invoke(
            cli, ["worker", "--name", "w-taken", "--metrics-port", str(port)], env=settings_env(settings)
        )
    assert outcome.exit_code == 2, outcome.output
    assert f"127.0.0.1:{port}" in outcome.output and "MLOPS_FC_WORKER_METRICS_PORT" in outcome.output
