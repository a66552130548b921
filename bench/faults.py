"""Recovery time of each fault: from the fault's end to the first answered request.

On a private stack of its own (Kafka, Redis with persistence, MLflow on free ports under a
temporary folder; the default stack is left alone): a transfer history, a first model, one
`mlops-fc worker` and one `mlops-fc api` as child processes, and a steady load on
POST /v1/predictions (tests/faults/api_load.py). The faults run one after the other, each
from a recovered system:

- redis_stop: Redis stopped for 20 s, then started again;
- broker_kill: the broker killed with SIGKILL, then started again on its data;
- overflow_timestamp: on players.records, transfers.completed and predictions.requests a
  message valid but for a timestamp that overflows in UTC (year 9999 at -01:00, year 1 at
  +01:00), as tests/faults reproduces them;
- oversized_message: 900 KB of garbage on each of those topics.

"Answered" means a 200 for a request sent after the fault ended; a fault with no answer
within --deadline seconds reports null. Last line: one JSON object, a key per fault ending
in `_recovery_s`.

    .venv/bin/python bench/faults.py [--faults redis_stop broker_kill ...] [--deadline 180]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the project, before bench/

from devstack.local import LocalStack  # noqa: E402
from devstack.processes import free_port, is_alive  # noqa: E402
from devstack.services import Service, start_service  # noqa: E402
from schemas.codec import encode_for  # noqa: E402
from schemas.envelope import Event  # noqa: E402
from schemas.predictions import PredictionRequest  # noqa: E402
from schemas.records import PlayerRecord  # noqa: E402
from schemas.topics import PLAYERS_RECORDS, PREDICTIONS_REQUESTS, TRANSFERS_COMPLETED, TopicSpec  # noqa: E402
from stack.kafka_clients import make_producer  # noqa: E402
from stack.settings import Settings  # noqa: E402
from stack.topic_admin import ensure_topics  # noqa: E402
from tests.api_stack import HISTORY  # noqa: E402
from tests.faults.api_load import ApiLoad, first_model, wait_until  # noqa: E402
from tests.flow_helpers import publish  # noqa: E402
from tests.stack_fixtures import local_stack_settings  # noqa: E402

REDIS_OUTAGE_S = 20.0
START_TIMEOUT_S = 240.0
GARBAGE_BYTES = 900_000
FAULTS = ("redis_stop", "broker_kill", "overflow_timestamp", "oversized_message")
Fault = Callable[[LocalStack, Settings], None]


def redis_stop(stack: LocalStack, _settings: Settings) -> None:
    stack.redis.down()
    threading.Event().wait(REDIS_OUTAGE_S)  # the outage's length
    stack.redis.up()


def broker_kill(stack: LocalStack, _settings: Settings) -> None:
    pid = stack.kafka.running_pid()
    assert pid is not None, "no broker process to kill"
    os.killpg(pid, signal.SIGKILL)
    wait_until(lambda: not is_alive(pid), 30)
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass
    stack.kafka.up(timeout=START_TIMEOUT_S)


def _valid_events() -> list[tuple[TopicSpec, Event, str]]:
    """A valid event per input topic, and its timestamp field to break."""
    transfer = HISTORY[0]
    record = PlayerRecord(
        source="bench", player_id=transfer.player_id, name="Poison", position="Centre-Back", club="Club 01",
        as_of=transfer.transferred_at,
    )  # fmt: skip
    request = PredictionRequest(
        source="bench", request_id="poison-request", player_id=transfer.player_id,
        position="Centre-Back", from_club="Club 01", to_club="Club 02", season=2013, window="winter",
        requested_at=transfer.transferred_at,
    )  # fmt: skip
    return [
        (TRANSFERS_COMPLETED, transfer, "transferred_at"),
        (PLAYERS_RECORDS, record, "as_of"),
        (PREDICTIONS_REQUESTS, request, "requested_at"),
    ]


Outgoing = tuple[TopicSpec, bytes | None, bytes, list[Any]]


def _produce(settings: Settings, messages: list[Outgoing]) -> None:
    producer = make_producer(settings)
    for spec, key, value, headers in messages:
        producer.produce(settings.topic(spec.name), value, key, headers=headers)
    if producer.flush(60) != 0:
        raise RuntimeError("the poison messages were not delivered")


def overflow_timestamp(_stack: LocalStack, settings: Settings) -> None:
    messages: list[Outgoing] = []
    for n, (spec, event, field) in enumerate(_valid_events()):
        key, _value, headers = encode_for(event, spec)
        body = event.model_dump(mode="json")
        body[field] = "9999-12-31T23:59:59-01:00" if n % 2 == 0 else "0001-01-01T00:00:00+01:00"
        messages.append((spec, key, json.dumps(body).encode(), list(headers)))
    _produce(settings, messages)


def oversized_message(_stack: LocalStack, settings: Settings) -> None:
    garbage = os.urandom(GARBAGE_BYTES // 2).hex().encode()
    _produce(settings, [(spec, b"poison", garbage, []) for spec, _, _ in _valid_events()])


RUNNERS: dict[str, Fault] = {
    "redis_stop": redis_stop,
    "broker_kill": broker_kill,
    "overflow_timestamp": overflow_timestamp,
    "oversized_message": oversized_message,
}


def ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/readyz", timeout=10).status_code == 200
    except httpx.HTTPError:
        return False


def measure(
    name: str, stack: LocalStack, settings: Settings, load: ApiLoad, url: str, deadline: float
) -> Any:
    if not wait_until(lambda: ready(url), deadline):
        print(f"{name}: the facade was not ready before the fault; skipped", flush=True)
        return None
    started = time.time()
    RUNNERS[name](stack, settings)
    ended = time.time()
    answered = load.wait_answered_after(ended, deadline)
    recovery = None if answered is None else round(answered - ended, 2)
    ready_again = wait_until(lambda: ready(url), deadline)
    print(
        f"{name}: fault {ended - started:.1f} s, first answer {recovery} s after its end,"
        f" ready again: {ready_again}",
        flush=True,
    )
    return recovery


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--faults", nargs="+", choices=FAULTS, default=list(FAULTS))
    parser.add_argument("--deadline", type=float, default=180.0, help="Longest wait for an answer (s).")
    args = parser.parse_args()
    figures: dict[str, Any] = {"bench": "faults", "cores": os.cpu_count()}
    with tempfile.TemporaryDirectory(prefix="mlops-fc-faults-") as folder:
        base = local_stack_settings(Path(folder) / "stack")
        settings = base.model_copy(
            update={"redis_persistence": True, "api_port": free_port(), "api_key": "bench-faults-key"}
        )
        stack = LocalStack(settings)
        services: list[Service] = []
        try:
            stack.up()
            ensure_topics(settings)
            publish(settings, TRANSFERS_COMPLETED, HISTORY)
            first_model(settings)
            metrics = str(free_port())
            services.append(
                start_service(settings, "worker", "worker", "--name", "w1", "--metrics-port", metrics)
            )
            services.append(start_service(settings, "api", "api", "--loglevel", "warning"))
            url = f"http://127.0.0.1:{settings.api_port}"
            if not wait_until(lambda: ready(url), START_TIMEOUT_S):
                raise SystemExit(f"the facade was not ready:\n{services[-1].log_tail()}")
            load = ApiLoad(url, run=f"bench-{int(time.time())}").start()
            try:
                for name in args.faults:
                    figures[f"{name}_recovery_s"] = measure(name, stack, settings, load, url, args.deadline)
            finally:
                load.stop()
            statuses: dict[str, int] = {}
            for answer in load.snapshot():
                statuses[str(answer.status)] = statuses.get(str(answer.status), 0) + 1
            figures["statuses"] = statuses
            figures["alive_after"] = {s.name: s.alive() for s in services}
        finally:
            for service in reversed(services):
                service.stop()
            stack.down()
    figures["load_1m"] = round(os.getloadavg()[0], 2)
    print(json.dumps(figures, sort_keys=True))


if __name__ == "__main__":
    main()
