"""Webhook delivery: bodies, backoff on a fake clock, no head-of-line blocking, bounded outbox."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from consumers.alert_rules import Alert
from consumers.webhook import Outbox, RetryPolicy, WebhookSender, render

AT = datetime(2026, 1, 1, tzinfo=UTC)


def alert(title: str) -> Alert:
    return Alert("promoted", "info", title, "better on 240 pairs", AT, {"pairs": "240"})


@dataclass
class FakeClock:
    now: float = 0.0

    def __call__(self) -> float:
        return self.now


@dataclass
class FakeTransport:
    """Answers from a script per alert title; records every attempt."""

    answers: dict[str, list[int | Exception]] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)

    def post(self, url: str, body: dict[str, Any], timeout_s: float) -> int:
        title = body["blocks"][0]["text"]["text"] if "blocks" in body else body["title"]
        self.calls.append(title)
        script = self.answers.get(title, [])
        answer = script.pop(0) if script else 200
        if isinstance(answer, Exception):
            raise answer
        return answer


def test_slack_body_has_text_and_blocks_and_json_body_the_facts() -> None:
    slack = render(alert("Model m v4 promoted"), "slack")
    assert "Model m v4 promoted" in slack["text"]
    assert [block["type"] for block in slack["blocks"]] == ["header", "section", "section", "context"]
    plain = render(alert("Model m v4 promoted"), "json")
    assert plain["kind"] == "promoted" and plain["facts"] == {"pairs": "240"}
    assert plain["occurred_at"] == AT.isoformat()


def test_retry_policy_doubles_up_to_the_most_then_gives_up() -> None:
    policy = RetryPolicy(attempts=5, first_s=1.0, most_s=5.0)
    assert [policy.delay(n) for n in range(1, 6)] == [1.0, 2.0, 4.0, 5.0, None]


def sender(transport: FakeTransport, clock: FakeClock, capacity: int = 10) -> WebhookSender:
    outbox = Outbox(capacity, clock=clock)
    return WebhookSender("http://hook", "slack", outbox, transport, RetryPolicy(3, 1.0, 10.0))


def test_a_failing_alert_is_retried_with_backoff_and_does_not_block_the_next() -> None:
    clock = FakeClock()
    transport = FakeTransport({"first": [500, httpx.ReadTimeout("slow")]})
    hook = sender(transport, clock)
    hook.outbox.put(alert("first"))
    hook.outbox.put(alert("second"))
    assert hook.step(wait_s=0) and hook.step(wait_s=0)
    assert transport.calls == ["first", "second"]  # the 500 did not hold "second" back
    assert hook.outbox.sent == 1 and hook.outbox.retried == 1
    assert not hook.step(wait_s=0)  # "first" is due in 1 s, not yet
    clock.now = 1.0
    assert hook.step(wait_s=0)  # times out: next try in 2 s
    clock.now = 2.9
    assert not hook.step(wait_s=0)
    clock.now = 3.0
    assert hook.step(wait_s=0)
    assert transport.calls == ["first", "second", "first", "first"] and hook.outbox.sent == 2


def test_an_alert_is_given_up_after_its_attempts() -> None:
    clock = FakeClock()
    transport = FakeTransport({"doomed": [500, 500, 500]})
    hook = sender(transport, clock)
    hook.outbox.put(alert("doomed"))
    for now in (0.0, 1.0, 3.0):
        clock.now = now
        assert hook.step(wait_s=0)
    assert hook.outbox.failed == 1 and len(hook.outbox) == 0 and len(transport.calls) == 3


def test_a_full_outbox_drops_the_oldest_and_counts_it() -> None:
    clock = FakeClock()
    transport = FakeTransport()
    hook = sender(transport, clock, capacity=2)
    for title in ("a", "b", "c"):
        hook.outbox.put(alert(title))
    assert hook.outbox.dropped == 1
    while hook.step(wait_s=0):
        pass
    assert transport.calls == ["b", "c"]
