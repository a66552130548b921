"""Alert rules: which events alert, dead-letter bursts, silent workers (pure, no broker)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from consumers.alert_rules import DeadLetterRate, Heartbeats, alert_for
from schemas.deadletters import DeadLetter
from schemas.envelope import Event
from schemas.evidence import HoldoutEvidence
from schemas.examples import example_of
from schemas.lifecycle import ModelPromoted, ModelRegistered, ModelRejected, ModelRolledBack, ModelShadowed
from schemas.monitoring import DriftDetected

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def test_each_alertable_event_gives_its_kind() -> None:
    kinds: dict[type[Event], str] = {
        DriftDetected: "drift",
        ModelShadowed: "shadowed",
        ModelPromoted: "promoted",
        ModelRejected: "rejected",
        ModelRolledBack: "rolled_back",
    }
    for cls, kind in kinds.items():
        alert = alert_for(example_of(cls))
        assert alert is not None and alert.kind == kind, cls
    assert alert_for(example_of(ModelRegistered)) is None


def test_a_verdict_alert_carries_its_evidence() -> None:
    alert = alert_for(example_of(ModelPromoted))
    assert alert is not None
    assert alert.facts["pairs"] == "240" and "p-value" in alert.facts and "interval" in alert.facts
    rolled = alert_for(example_of(ModelRolledBack))
    assert rolled is not None and rolled.severity == "critical"


def test_a_gate_decision_alert_carries_its_holdout_figures() -> None:
    rejected = alert_for(example_of(ModelRejected))  # the example is rejected at the holdout gate
    assert rejected is not None
    assert rejected.facts["holdout rows"] == "400" and rejected.facts["mean errors"] == "0.6300 vs 0.6200"
    assert rejected.facts["margin"] == "2%" and rejected.facts["holdout span"] == "2012-01-02 .. 2012-06-30"
    first = HoldoutEvidence(method="first", rows=120, challenger_mean_error=0.71)
    promoted = alert_for(example_of(ModelPromoted, previous_version=None, evidence=first))
    assert promoted is not None and "0.7100" in promoted.facts["evidence"] and "pairs" not in promoted.facts


def test_performance_drift_names_the_errors() -> None:
    event = example_of(DriftDetected, kind="performance", online_error=0.9, reference_error=0.6)
    alert = alert_for(event)
    assert alert is not None and "0.900" in alert.text and "Performance" in alert.title


def letter(at: datetime) -> DeadLetter:
    return example_of(DeadLetter, occurred_at=at)


def test_dead_letters_alert_once_above_the_rate_and_re_arm_below_it() -> None:
    rate = DeadLetterRate(per_minute=3)
    burst = [rate.add(letter(NOW + timedelta(seconds=i))) for i in range(6)]
    assert [alert is not None for alert in burst] == [False, False, False, True, False, False]
    # A quiet minute: the rate falls back, the next burst alerts again.
    later = NOW + timedelta(minutes=5)
    assert rate.add(letter(later)) is None
    again = [rate.add(letter(later + timedelta(seconds=i))) for i in range(1, 4)]
    assert again[-1] is not None and again[-1].kind == "deadletters"


def beat(name: str, at: datetime) -> bytes:
    body = {"worker": name, "model_name": "m", "model_version": "1", "updated_at": at.isoformat()}
    return json.dumps(body).encode()


def test_a_stale_or_expired_heartbeat_alerts_once_per_outage() -> None:
    beats = Heartbeats(stale_s=30)
    key_a, key_b = "mlops-fc:worker:a", "mlops-fc:worker:b"
    assert beats.check({key_a: beat("a", NOW), key_b: beat("b", NOW)}, NOW) == []
    stale = beats.check(
        {key_a: beat("a", NOW), key_b: beat("b", NOW - timedelta(seconds=20))}, NOW + timedelta(seconds=40)
    )
    assert [alert.facts["worker"] for alert in stale] == ["a", "b"]
    assert "no heartbeat for 40 s" in stale[0].text
    assert beats.check({key_a: beat("a", NOW)}, NOW + timedelta(seconds=50)) == []  # still down: said already
    # a answers again, then its key expires: a new alert.
    assert beats.check({key_a: beat("a", NOW + timedelta(seconds=60))}, NOW + timedelta(seconds=61)) == []
    expired = beats.check({}, NOW + timedelta(seconds=70))
    assert [alert.facts["worker"] for alert in expired] == ["a"] and "expired" in expired[0].text


def test_an_unreadable_heartbeat_is_an_alert_not_a_crash() -> None:
    alerts = Heartbeats(stale_s=30).check({"mlops-fc:worker:x": b"not json"}, NOW)
    assert len(alerts) == 1 and "unreadable" in alerts[0].text
