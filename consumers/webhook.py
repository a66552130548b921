"""Alert delivery to a webhook: Slack-compatible or generic JSON bodies, retried with backoff.

A failing webhook never stalls anything: the consume loop only puts alerts in a bounded
outbox (full: the oldest is dropped, counted and logged), and the sender thread never waits
on one alert's retries before sending the next: a failed alert is put back with its next
due time (exponential backoff) and the sender moves on.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import httpx

from consumers.alert_rules import Alert

log = logging.getLogger(__name__)
WebhookFormat = Literal["slack", "json"]
_EMOJI = {"info": ":information_source:", "warning": ":warning:", "critical": ":rotating_light:"}


def render(alert: Alert, form: WebhookFormat) -> dict[str, Any]:
    """The POST body: Slack incoming-webhook blocks (with ``text`` as fallback) or plain JSON."""
    if form == "json":
        return {
            "kind": alert.kind,
            "severity": alert.severity,
            "title": alert.title,
            "text": alert.text,
            "occurred_at": alert.occurred_at.isoformat(),
            "facts": dict(alert.facts),
        }
    text = f"{_EMOJI[alert.severity]} *{alert.title}*: {alert.text}"
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": alert.title[:150]}},
        {"type": "section", "text": {"type": "mrkdwn", "text": alert.text[:3000]}},
    ]
    if alert.facts:
        # Slack allows at most 10 fields a section.
        fields = [{"type": "mrkdwn", "text": f"*{k}*\n{v}"[:2000]} for k, v in list(alert.facts.items())[:10]]
        blocks.append({"type": "section", "fields": fields})
    context = f"{alert.kind} · {alert.severity} · {alert.occurred_at.isoformat()}"
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": context}]})
    return {"text": text, "blocks": blocks}


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff: ``first_s``, doubling, at most ``most_s``; ``attempts`` in all."""

    attempts: int = 5
    first_s: float = 1.0
    most_s: float = 60.0

    def delay(self, failures: int) -> float | None:
        """Seconds before the next attempt after ``failures`` failed ones; None: give up."""
        if failures >= self.attempts:
            return None
        return float(min(self.most_s, self.first_s * 2 ** (failures - 1)))


class Transport(Protocol):
    def post(self, url: str, body: dict[str, Any], timeout_s: float) -> int:
        """POST the JSON body; the HTTP status (an exception for no answer at all)."""
        ...


class HttpTransport:
    """httpx, one connection pool for the sender's life."""

    def __init__(self) -> None:
        self._client = httpx.Client()

    def post(self, url: str, body: dict[str, Any], timeout_s: float) -> int:
        return self._client.post(url, json=body, timeout=timeout_s).status_code

    def close(self) -> None:
        self._client.close()


@dataclass(order=True)
class _Pending:
    due: float
    seq: int
    alert: Alert = field(compare=False)
    failures: int = field(default=0, compare=False)


@dataclass
class Outbox:
    """A bounded queue of alerts by due time; ``sent``, ``dropped`` and ``failed`` count outcomes."""

    capacity: int
    clock: Callable[[], float] = time.monotonic
    sent: int = 0
    dropped: int = 0
    failed: int = 0
    retried: int = 0
    _heap: list[_Pending] = field(default_factory=list)
    _seq: itertools.count[int] = field(default_factory=itertools.count)
    _ready: threading.Condition = field(default_factory=threading.Condition)

    def put(self, alert: Alert) -> None:
        with self._ready:
            if len(self._heap) >= self.capacity:
                oldest = min(self._heap, key=lambda item: item.seq)
                self._heap.remove(oldest)
                heapq.heapify(self._heap)
                self.dropped += 1
                log.warning(
                    "alert outbox full (%d): dropped %r (%d dropped so far)",
                    self.capacity,
                    oldest.alert.title,
                    self.dropped,
                )
            heapq.heappush(self._heap, _Pending(self.clock(), next(self._seq), alert))
            self._ready.notify()

    def retry_later(self, item: _Pending, delay_s: float) -> None:
        with self._ready:
            item.due = self.clock() + delay_s
            heapq.heappush(self._heap, item)
            self._ready.notify()

    def take_due(self, wait_s: float) -> _Pending | None:
        """The next alert whose time has come, waiting at most ``wait_s`` for one."""
        with self._ready:
            if not self._heap or self._heap[0].due > self.clock():
                soonest = self._heap[0].due - self.clock() if self._heap else wait_s
                self._ready.wait(max(0.0, min(wait_s, soonest)))
            if self._heap and self._heap[0].due <= self.clock():
                return heapq.heappop(self._heap)
            return None

    def __len__(self) -> int:
        with self._ready:
            return len(self._heap)


@dataclass
class WebhookSender:
    """Delivers the outbox to one URL until stopped; one attempt per step, never blocking on one alert."""

    url: str
    form: WebhookFormat
    outbox: Outbox
    transport: Transport
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    timeout_s: float = 5.0
    on_sent: Callable[[Alert], None] = lambda _alert: None

    def step(self, wait_s: float = 0.5) -> bool:
        """Try the next due alert once; False when none was due."""
        item = self.outbox.take_due(wait_s)
        if item is None:
            return False
        try:
            status = self.transport.post(self.url, render(item.alert, self.form), self.timeout_s)
            error = None if 200 <= status < 300 else f"HTTP {status}"
        except (httpx.HTTPError, OSError) as exc:
            error = f"{type(exc).__name__}: {exc}"
        if error is None:
            self.outbox.sent += 1
            self.on_sent(item.alert)
            return True
        item.failures += 1
        delay = self.policy.delay(item.failures)
        if delay is None:
            self.outbox.failed += 1
            log.error("alert %r not delivered after %d attempts (%s)", item.alert.title, item.failures, error)
            return True
        self.outbox.retried += 1
        log.warning(
            "alert %r: webhook failed (%s); retry %d in %.1fs", item.alert.title, error, item.failures, delay
        )
        self.outbox.retry_later(item, delay)
        return True

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            self.step()
