"""Any plain Kafka client is a publisher: kcat writes a PredictionRequest as JSON, a real
worker scores it, and kcat reads the result back."""

from __future__ import annotations

import json
import shutil
import subprocess
import uuid
from collections.abc import Iterator

import pytest

from schemas.predictions import PredictionResult
from stack.kafka_connection import kafka_connection
from stack.settings import Settings
from tests.api_stack import HISTORY, isolated
from tests.flow_helpers import publish, running_workers

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(shutil.which("kcat") is None, reason="kcat missing: run scripts/setup.sh"),
]
RESULT_TIMEOUT_S = 180


@pytest.fixture
def served(stack_settings: Settings) -> Iterator[Settings]:
    from retrainer.initial import train_initial
    from schemas.topics import TRANSFERS_COMPLETED

    settings = isolated(stack_settings)
    publish(settings, TRANSFERS_COMPLETED, HISTORY)
    train_initial(settings, transfers=HISTORY)
    yield settings


def test_kcat_request_is_scored_and_read_back_with_kcat(served: Settings) -> None:
    request_id = f"kcat-{uuid.uuid4()}"
    # Written by hand, as a user of another language would: the JSON Schema's fields, nothing more.
    request = {
        "event_type": "PredictionRequest",
        "schema_version": 2,
        "event_id": str(uuid.uuid4()),
        "occurred_at": "2030-01-01T00:00:00Z",
        "source": "kcat",
        "trace_id": str(uuid.uuid4()),
        "request_id": request_id,
        "player_id": "p7-4",
        "position": "Centre-Back",
        "from_club": "Club 01",
        "to_club": "Club 06",
        "season": 2013,
        "window": "winter",
        "requested_at": "2030-01-01T00:00:00Z",
    }
    brokers = kafka_connection(served).bootstrap_servers
    with running_workers(served, "w1") as (worker,):
        subprocess.run(
            ["kcat", "-P", "-b", brokers, "-t", served.topic("predictions.requests"), "-K", "|"],
            input=f"p7-4|{json.dumps(request)}\n".encode(),
            check=True,
            timeout=60,
        )
        # -c 1: exit after the first message (the topic is this test's own); -e never: wait for it.
        read = subprocess.run(
            ["kcat", "-C", "-b", brokers, "-t", served.topic("predictions.results"), "-o", "beginning",
             "-c", "1", "-f", "%k\t%s\n", "-q"],
            capture_output=True,
            timeout=RESULT_TIMEOUT_S,
            check=True,
        )  # fmt: skip
        assert read.stdout, worker.log_tail()
    key, value = read.stdout.decode().rstrip("\n").split("\t", 1)
    result = PredictionResult.model_validate_json(value)
    assert key == request_id and result.request_id == request_id
    assert result.status == "ok" and result.model_version == "1" and result.predicted_fee_eur_m is not None
    assert result.trace_id == request["trace_id"]
