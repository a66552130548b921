"""The REST facade under load through a Redis stop and a broker kill -9, on a private stack.

A real worker and the facade run as child processes (`mlops-fc worker`, `mlops-fc api`).
Every request sent before, during and after the fault must be answered exactly once: 200, or
202 with its result found by GET afterwards, or 503 (refused, the caller retries); never a
500, never two results. Afterwards the same facade process is ready again on its own.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from devstack.local import LocalStack
from devstack.processes import is_alive
from devstack.services import Service
from schemas.topics import PREDICTIONS_RESULTS, TRANSFERS_COMPLETED
from stack.settings import Settings
from stack.topic_admin import ensure_topics
from tests.api_helpers import RunningApi, running_api
from tests.api_stack import HISTORY
from tests.faults.api_load import ApiLoad, first_model, problems, wait_until
from tests.flow_helpers import ResultCollector, collecting, publish, running_workers
from tests.flow_helpers import _read_all as read_all
from tests.stack_fixtures import local_stack_settings

REDIS_OUTAGE_S = 20.0
LOAD_BEFORE = 20  # answers before the fault
READY_TIMEOUT_S = 180.0
RESULT_TIMEOUT_S = 120.0


@dataclass
class Served:
    stack: LocalStack
    settings: Settings
    api: RunningApi
    worker: Service
    results: ResultCollector


@pytest.fixture
def persistent_stack(tmp_path: Path) -> Iterator[tuple[LocalStack, Settings]]:
    """Like ``private_stack``, with Redis persistence on: a stopped Redis comes back with its
    data (the model pointer and blobs), as any production Redis does."""
    settings = local_stack_settings(tmp_path / "stack").model_copy(update={"redis_persistence": True})
    stack = LocalStack(settings)
    try:
        stack.up()
        ensure_topics(settings)
        yield stack, settings
    finally:
        stack.down()


@contextmanager
def served(stack: LocalStack, settings: Settings) -> Iterator[Served]:
    publish(settings, TRANSFERS_COMPLETED, HISTORY)
    assert first_model(settings) == "1"
    with (
        running_workers(settings, "w1") as (worker,),
        running_api(settings, "api", api_result_timeout_s=5.0) as api,
        collecting(settings) as results,
    ):
        yield Served(stack, settings, api, worker, results)


def ready(api: RunningApi) -> bool:
    try:
        return httpx.get(f"{api.url}/readyz", timeout=10).status_code == 200
    except httpx.HTTPError:
        return False


def check_after(s: Served, load: ApiLoad) -> None:
    assert s.api.service.alive(), s.api.service.log_tail()
    assert wait_until(lambda: ready(s.api), READY_TIMEOUT_S), httpx.get(f"{s.api.url}/readyz").text
    assert s.api.service.alive() and s.worker.alive(), "a service exited instead of recovering"
    answers = load.snapshot()
    accepted = [a.request_id for a in answers if a.status in (200, 202) and a.request_id]
    s.results.wait_for_ids(accepted, RESULT_TIMEOUT_S)
    # Counted on a fresh read of the whole topic: the collector's group may have re-read it
    # after the broker came back (its session timed out), which would count results twice.
    counts = results_on_topic(s.settings)
    with s.api.client() as http:
        found = problems(answers, http, counts, RESULT_TIMEOUT_S)
        assert not found, "\n".join(found[:20]) + f"\n{s.api.service.log_tail()}"
        health = http.get("/healthz")
        assert health.status_code == 200, health.text


def results_on_topic(settings: Settings) -> Counter[str]:
    topic = settings.topic(PREDICTIONS_RESULTS.name)
    return Counter((message.key() or b"").decode() for _, _, message in read_all(settings, topic))


def under_load(s: Served, fault: str) -> ApiLoad:
    assert wait_until(lambda: ready(s.api), READY_TIMEOUT_S), httpx.get(f"{s.api.url}/readyz").text
    load = ApiLoad(s.api.url, run=fault).start()
    assert wait_until(lambda: sum(a.status == 200 for a in load.snapshot()) >= LOAD_BEFORE, 120)
    return load


def test_redis_stopped_for_20_s_under_load(persistent_stack: tuple[LocalStack, Settings]) -> None:
    stack, settings = persistent_stack
    with served(stack, settings) as s:
        load = under_load(s, "redis")
        try:
            assert stack.redis.down()
            stopped = load.snapshot()
            threading.Event().wait(REDIS_OUTAGE_S)  # the fault's length, not a wait for a condition
            during = load.snapshot()[len(stopped) :]
            stack.redis.up()
            back = load.wait_answered_after(time.time(), READY_TIMEOUT_S)
            assert back is not None, s.api.service.log_tail()
            assert wait_until(lambda: ready(s.api), READY_TIMEOUT_S)
            load.wait_answered_after(back, 60)  # some traffic after recovery too
        finally:
            load.stop()
        # While Redis was down the facade answered (or refused) every request: nothing hung.
        assert during and all(a.status in (200, 202, 503) for a in during), Counter(a.status for a in during)
        assert any(a.status == 503 and a.given_id for a in during), "a caller id needs Redis: 503"
        check_after(s, load)


def test_broker_killed_and_restarted_under_load(private_stack: tuple[LocalStack, Settings]) -> None:
    stack, settings = private_stack
    with served(stack, settings) as s:
        load = under_load(s, "broker")
        try:
            kill_broker(stack)
            stack.kafka.up(timeout=180)
            back = load.wait_answered_after(time.time(), READY_TIMEOUT_S)
            assert back is not None, s.api.service.log_tail()
            load.wait_answered_after(back, 60)
        finally:
            load.stop()
        check_after(s, load)


def kill_broker(stack: LocalStack) -> None:
    pid = stack.kafka.running_pid()
    assert pid is not None
    os.killpg(pid, signal.SIGKILL)  # no clean shutdown: as a crashed machine
    assert wait_until(lambda: not is_alive(pid), 30)
    try:
        os.waitpid(pid, 0)  # the broker is this process's child: reap it
    except ChildProcessError:
        pass
