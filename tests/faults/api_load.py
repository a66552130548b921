"""Steady load on the REST facade while a fault is injected, and the checks after it.

Shared by tests/faults/test_api_outages.py and bench/faults.py. Half the requests carry a
caller's request_id (the facade looks it up in Redis first), half let the facade make one up
(straight to Kafka). Every answer is recorded with its times, so a test can check that each
request was answered once, and the bench can measure when answers came back.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
from confluent_kafka import KafkaException

from retrainer.initial import train_initial
from stack.settings import Settings
from tests.api_stack import HISTORY, body

ACCEPTED = (200, 202)
REFUSED = (503,)


@dataclass(frozen=True)
class Answer:
    index: int
    given_id: str | None
    status: int | str  # the HTTP status, or the client error's name
    request_id: str | None  # the id in the answer (given or made up by the facade)
    sent_at: float
    answered_at: float


@dataclass
class ApiLoad:
    """``senders`` threads, each POSTing one request every ``every_s`` until ``stop``."""

    url: str
    run: str
    senders: int = 4
    every_s: float = 0.1
    answers: list[Answer] = field(default_factory=list)
    _count: itertools.count[int] = field(default_factory=itertools.count)
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _threads: list[threading.Thread] = field(default_factory=list)

    def start(self) -> ApiLoad:
        for n in range(self.senders):
            thread = threading.Thread(target=self._send, name=f"load-{n}", daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(120)

    def _send(self) -> None:
        with httpx.Client(base_url=self.url, timeout=90.0) as client:
            while not self._stop.is_set():
                self.answers_one(client, next(self._count))
                self._stop.wait(self.every_s)  # pacing, not waiting for a condition

    def answers_one(self, client: httpx.Client, index: int) -> Answer:
        given = f"{self.run}-{index:06d}" if index % 2 else None
        payload = body(index, **({"request_id": given} if given else {}))
        sent = time.time()
        try:
            response = client.post("/v1/predictions", json=payload)
            status: int | str = response.status_code
            found = response.json() if status in ACCEPTED + REFUSED else {}
            # A 503 for an unconfirmed publish names the id it was published under.
            got = found.get("request_id") or next(iter(found.get("request_ids") or []), None)
        except (httpx.HTTPError, ValueError) as exc:
            status, got = type(exc).__name__, None
        answer = Answer(index, given, status, got, sent, time.time())
        with self._lock:
            self.answers.append(answer)
        return answer

    def snapshot(self) -> list[Answer]:
        with self._lock:
            return list(self.answers)

    def first_answered_after(self, at: float) -> float | None:
        """When the first request sent after ``at`` was answered with a result (200)."""
        times = [a.answered_at for a in self.snapshot() if a.status == 200 and a.sent_at >= at]
        return min(times) if times else None

    def wait_answered_after(self, at: float, timeout: float) -> float | None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.first_answered_after(at)
            if found is not None:
                return found
            self._stop.wait(0.2)  # poll interval of a condition bounded by the deadline
        return None


def first_model(settings: Settings, attempts: int = 5) -> str:
    """train_initial on HISTORY, again while a fresh stack's topics still elect their leaders
    (seen: NOT_LEADER_FOR_PARTITION from the season-stats topic right after creation)."""
    for attempt in range(attempts):
        try:
            return train_initial(settings, transfers=HISTORY).version
        except KafkaException as exc:
            if attempt == attempts - 1:
                raise
            print(f"first model: {exc}; again", flush=True)
            threading.Event().wait(2.0)  # leader election: a pause, then the same call again
    raise AssertionError("unreachable")


def wait_until(condition: Callable[[], bool], timeout: float, every_s: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        threading.Event().wait(every_s)  # poll interval of a condition bounded by the deadline
    return False


def problems(answers: list[Answer], http: httpx.Client, results: dict[str, int], timeout: float) -> list[str]:
    """What breaks "answered exactly once": answers other than 200/202/503, a 200 for another
    id, a 202 whose result GET never finds, a request answered more than once on the topic,
    an accepted one never, or a refused caller id that was answered anyway.

    ``results`` counts results on predictions.results by request id (read after the fault).
    """
    found = []
    for a in answers:
        if a.status not in ACCEPTED + REFUSED:
            found.append(f"request {a.index}: answered {a.status}")
        elif a.status in ACCEPTED and (a.request_id is None or (a.given_id and a.request_id != a.given_id)):
            found.append(f"request {a.index}: answered for {a.request_id!r}, asked {a.given_id!r}")
    accepted = [a for a in answers if a.status in ACCEPTED and a.request_id]
    pending = {a.request_id for a in accepted if a.status == 202}
    deadline = time.monotonic() + timeout
    while pending and time.monotonic() < deadline:
        pending = {rid for rid in pending if rid and http.get(f"/v1/predictions/{rid}").status_code != 200}
        if pending:
            threading.Event().wait(0.5)  # poll interval of a condition bounded by the deadline
    found += [f"202 for {rid} but GET never found its result" for rid in sorted(pending, key=str)]
    for a in accepted:
        if results.get(a.request_id or "", 0) != 1:
            found.append(f"{a.request_id}: {results.get(a.request_id or '', 0)} results on the topic")
    for a in answers:
        refused_id = a.given_id or a.request_id  # the caller's, or the one a 503 names
        if a.status in REFUSED and refused_id and results.get(refused_id, 0) > 1:
            found.append(f"{refused_id}: refused, yet {results[refused_id]} results on the topic")
    return found
