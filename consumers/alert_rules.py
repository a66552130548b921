"""What deserves an alert: pure rules from events, dead-letter counts and worker heartbeats.

The alert sink (consumers/alerts.py) feeds these with decoded events and the clock; they
return ``Alert`` values that the webhook (consumers/webhook.py) renders and delivers.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from schemas.deadletters import DeadLetter
from schemas.envelope import Event
from schemas.evidence import DecisionEvidence, HoldoutEvidence
from schemas.lifecycle import ModelPromoted, ModelRejected, ModelRolledBack, ModelShadowed
from schemas.monitoring import DriftDetected

Severity = Literal["info", "warning", "critical"]
AlertKind = Literal["drift", "shadowed", "promoted", "rejected", "rolled_back", "deadletters", "worker_down"]


@dataclass(frozen=True)
class Alert:
    """One thing a human should hear about: a title, a line of text and named facts."""

    kind: AlertKind
    severity: Severity
    title: str
    text: str
    occurred_at: datetime
    facts: dict[str, str] = field(default_factory=dict)


def alert_for(event: Event) -> Alert | None:
    """The alert an event on monitoring.drift or models.lifecycle deserves, if any."""
    if isinstance(event, DriftDetected):
        return _drift(event)
    if isinstance(event, ModelShadowed):
        facts = {
            "model": event.model_name,
            "challenger": event.version,
            "champion": str(event.champion_version),
        }
        if event.replaces_version:
            facts["replaces"] = event.replaces_version
        title = f"Model {event.model_name} v{event.version} in shadow"
        return Alert("shadowed", "info", title, event.reason, event.occurred_at, facts)
    if isinstance(event, ModelPromoted):
        facts = {"model": event.model_name, "version": event.version, "previous": str(event.previous_version)}
        title = f"Model {event.model_name} v{event.version} promoted"
        return Alert(
            "promoted", "info", title, event.reason, event.occurred_at, facts | _evidence(event.evidence)
        )
    if isinstance(event, ModelRejected):
        facts = {"model": event.model_name, "version": event.version}
        title = f"Model {event.model_name} v{event.version} rejected"
        return Alert(
            "rejected", "warning", title, event.reason, event.occurred_at, facts | _evidence(event.evidence)
        )
    if isinstance(event, ModelRolledBack):
        facts = {"model": event.model_name, "from": event.from_version, "to": event.to_version}
        title = f"Model {event.model_name} rolled back v{event.from_version} -> v{event.to_version}"
        return Alert(
            "rolled_back",
            "critical",
            title,
            event.reason,
            event.occurred_at,
            facts | _evidence(event.evidence),
        )
    return None  # ModelRegistered and the rest: routine


def _drift(event: DriftDetected) -> Alert:
    facts = {"model": event.model_name, "version": event.model_version, "method": event.method}
    if event.kind == "performance":
        text = f"online error {event.online_error:.3f} vs reference {event.reference_error or 0:.3f}"
    else:
        top = sorted(event.scores.items(), key=lambda item: item[1], reverse=True)[:3]
        text = (
            f"share drifted {event.share_drifted or 0:.2f} (threshold {event.threshold:.2f}); top: "
            + ", ".join(f"{name} {score:.2f}" for name, score in top)
        )
    facts["window"] = f"{event.window_size} events"
    title = f"{event.kind.capitalize()} drift on {event.model_name} v{event.model_version}"
    return Alert("drift", "warning", title, text, event.occurred_at, facts)


def _evidence(evidence: DecisionEvidence | None) -> dict[str, str]:
    if evidence is None:
        return {}
    if isinstance(evidence, HoldoutEvidence):
        return _holdout(evidence)
    facts = {
        "pairs": str(evidence.pairs),
        "mean errors": f"{evidence.challenger_mean_error:.4f} vs {evidence.champion_mean_error:.4f}",
    }
    if evidence.p_value is not None:
        facts["p-value"] = f"{evidence.p_value:.3g} (alpha {evidence.alpha})"
    if evidence.interval_low is not None and evidence.interval_high is not None:
        facts["interval"] = f"[{evidence.interval_low:.4f}, {evidence.interval_high:.4f}]"
    return facts


def _holdout(evidence: HoldoutEvidence) -> dict[str, str]:
    if evidence.method == "first":
        return {"evidence": f"first model, validation |log error| {evidence.challenger_mean_error:.4f}"}
    facts = {
        "holdout rows": str(evidence.rows),
        "mean errors": f"{evidence.challenger_mean_error:.4f} vs {evidence.champion_mean_error or 0:.4f}",
        "margin": f"{evidence.margin or 0:.0%}",
    }
    if evidence.holdout_from is not None and evidence.holdout_to is not None:
        facts["holdout span"] = f"{evidence.holdout_from:%Y-%m-%d} .. {evidence.holdout_to:%Y-%m-%d}"
    return facts


@dataclass
class DeadLetterRate:
    """Alerts once when dead letters per minute pass the threshold; re-arms when it falls back."""

    per_minute: float
    window_s: float = 60.0
    _seen: deque[float] = field(default_factory=deque)
    _firing: bool = False

    def add(self, letter: DeadLetter) -> Alert | None:
        at = letter.occurred_at.timestamp()
        self._seen.append(at)
        while self._seen and self._seen[0] <= at - self.window_s:
            self._seen.popleft()
        rate = len(self._seen) * 60.0 / self.window_s
        if rate <= self.per_minute:
            self._firing = False
            return None
        if self._firing:
            return None
        self._firing = True
        text = (
            f"{rate:.0f} dead letters a minute (threshold {self.per_minute:g}); latest: {letter.reason[:200]}"
        )
        facts = {"source topic": letter.source_topic, "error": letter.error_type, "from": letter.source}
        return Alert(
            "deadletters", "critical", "Dead letters above the threshold", text, letter.occurred_at, facts
        )


@dataclass
class Heartbeats:
    """Workers that stopped answering: a heartbeat gone (expired) or older than ``stale_s``."""

    stale_s: float
    _known: set[str] = field(default_factory=set)
    _down: set[str] = field(default_factory=set)

    def check(self, beats: Mapping[str, bytes | str | None], now: datetime) -> list[Alert]:
        """``beats``: Redis key -> value of every heartbeat key found now."""
        ages = dict(_age(key, raw, now) for key, raw in beats.items())
        alive = {name for name, age in ages.items() if age is not None and age <= self.stale_s}
        alerts: list[Alert] = []
        for name, age in sorted(ages.items()):
            if name not in alive:
                why = "an unreadable heartbeat" if age is None else f"no heartbeat for {age:.0f} s"
                alerts += self._down_alert(name, why, now)
        for name in sorted(self._known - ages.keys()):
            alerts += self._down_alert(name, "its heartbeat expired", now)
        self._known |= ages.keys()
        self._down -= alive  # a worker that answers again can alert again later
        return alerts

    def _down_alert(self, name: str, why: str, now: datetime) -> list[Alert]:
        if name in self._down:
            return []
        self._down.add(name)
        text = f"worker {name} stopped answering: {why} (limit {self.stale_s:g} s)"
        return [
            Alert("worker_down", "critical", f"Worker {name} stopped answering", text, now, {"worker": name})
        ]


def _age(key: str, raw: bytes | str | None, now: datetime) -> tuple[str, float | None]:
    name = key.rsplit(":", 1)[-1]
    try:
        body = json.loads(raw or b"")
        name = str(body.get("worker") or name)
        stamp = body["updated_at"]
        if isinstance(stamp, int | float):  # epoch seconds
            return name, now.timestamp() - float(stamp)
        updated = datetime.fromisoformat(str(stamp))
        if updated.tzinfo is None:
            return name, None
    except (ValueError, TypeError, KeyError, AttributeError, OverflowError):
        return name, None
    return name, (now - updated).total_seconds()
