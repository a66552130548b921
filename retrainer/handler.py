"""Handle one drift event: retrain, compare, register, then promote or reject — exactly once.

Exactly once across crashes comes from the registry, not from memory: the version a drift
event produced carries the event id in its run's parameters and, once decided, an outcome
tag. A restarted retrainer that meets the same event again finds its version and finishes
(or skips) it instead of training a second one; half-registered versions are removed first.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import redis

from features.training_set import build_training_set
from modelstore.artifact import ModelArtifact
from modelstore.lifecycle import Registry
from modelstore.mlflow_registry import (
    ensure_experiment,
    list_versions,
    remove_half_registered,
    run_params,
    set_version_tag,
    version_tags,
)
from modelstore.signing import load_artifact
from retrainer.challenger import NotEnoughNewData, compare
from retrainer.history import read_history
from retrainer.window import TrainingWindow
from schemas.monitoring import DriftDetected

log = logging.getLogger(__name__)
TAG_OUTCOME = "mlfc.outcome"
PARAM_TRIGGER = "trigger_event_id"
MANUAL_METHOD = "manual"


@dataclass(frozen=True)
class Outcome:
    status: str  # "promoted" | "rejected" | "skipped"
    reason: str
    version: str | None = None


class DriftHandler:
    """Turns drift events into registry outcomes; one instance per retrainer process."""

    def __init__(self, registry: Registry, redis_client: redis.Redis) -> None:
        self.registry = registry
        self.settings = registry.settings
        self.redis = redis_client
        self.window = TrainingWindow.parse(self.settings.retrain_window)
        self._last_key = f"{self.settings.topic_prefix}mlops-fc:retrainer:last-retrain"

    def handle(self, event: DriftDetected) -> Outcome:
        name = self.registry.name
        experiment = ensure_experiment(
            self.registry.client, name, self.registry.settings.mlflow_artifacts / name
        )
        removed = remove_half_registered(self.registry.client, name, experiment)
        if removed:
            log.warning("removed half-registered versions %s left by an earlier crash", removed)
        earlier = self._version_for(str(event.event_id))
        if earlier is not None:
            return self._finish(earlier, event)
        if event.method != MANUAL_METHOD and (wait := self._cooldown_left()) > 0:
            return Outcome("skipped", f"cool-down: next retrain allowed in {wait:.0f}s")
        return self._retrain(event)

    def _retrain(self, event: DriftDetected) -> Outcome:
        started = time.monotonic()
        events, undecodable = read_history(self.settings)  # season records, then transfers
        frame = build_training_set(events)
        champion = self._champion()
        log.info(
            "drift event %s: training a challenger on %d paid transfers (window %s, champion %s)",
            event.event_id,
            len(frame),
            self.window,
            champion.version if champion else None,
        )
        try:
            comparison = compare(
                frame,
                champion,
                self.registry.name,
                self.window,
                self.settings.retrain_holdout_rows,
                self.settings.retrain_margin,
                tags={"trigger": event.kind, "trigger_event_id": str(event.event_id)},
            )
        except NotEnoughNewData as exc:
            return Outcome("skipped", str(exc))
        decision = "promote" if comparison.better else "reject"
        params = {
            PARAM_TRIGGER: str(event.event_id),
            "trigger_kind": event.kind,
            "trigger_method": event.method,
            "drifted_version": event.model_version,
            "window": str(self.window),
            "decision": decision,
            "reason": comparison.reason[:500],
            "champion_version": champion.version if champion else None,
            "undecodable_transfers": undecodable,
        }
        metrics = {f"holdout_{k}": v for k, v in comparison.challenger_metrics.items()}
        metrics.update({f"champion_holdout_{k}": v for k, v in comparison.champion_metrics.items()})
        metrics["train_seconds"] = time.monotonic() - started
        registered = self.registry.register(
            comparison.challenger,
            run_name=f"challenger-{str(event.event_id)[:8]}",
            params=params,
            metrics=metrics,
            trace_id=str(event.trace_id),
        )
        if comparison.better:
            self.registry.promote(registered, reason=comparison.reason, trace_id=str(event.trace_id))
        else:
            self.registry.reject(
                registered.version,
                comparison.reason,
                comparison.challenger_metrics,
                comparison.champion_metrics,
                trace_id=str(event.trace_id),
            )
        return self._record(registered.version, decision, comparison.reason)

    def _finish(self, version: str, event: DriftDetected) -> Outcome:
        """The event was seen before a crash: skip it if decided, else carry out its decision."""
        tags = version_tags(self.registry.client, self.registry.name, version)
        if TAG_OUTCOME in tags:
            return Outcome("skipped", f"already handled: version {version} {tags[TAG_OUTCOME]}", version)
        params = run_params(self.registry.client, self._run_id(version))
        reason = params.get("reason", "decided before a restart")
        if params.get("decision") == "promote":
            if self.registry.champion() != version:  # the crash came before the promotion
                self.registry.promote_existing(version, reason=reason)
        else:
            self.registry.reject(version, reason)
        log.warning("finished drift event %s after a restart: version %s", event.event_id, version)
        return self._record(version, params.get("decision", "reject"), reason)

    def _record(self, version: str, decision: str, reason: str) -> Outcome:
        status = "promoted" if decision == "promote" else "rejected"
        set_version_tag(self.registry.client, self.registry.name, version, TAG_OUTCOME, status)
        self.redis.set(self._last_key, time.time())
        return Outcome(status, reason, version)

    def _cooldown_left(self) -> float:
        last = self.redis.get(self._last_key)
        if last is None:
            return 0.0
        return float(last) + self.settings.retrain_cooldown_s - time.time()

    def _version_for(self, event_id: str) -> str | None:
        for info in list_versions(self.registry.client, self.registry.name):
            if run_params(self.registry.client, info.run_id).get(PARAM_TRIGGER) == event_id:
                return info.version
        return None

    def _run_id(self, version: str) -> str | None:
        return self.registry.client.get_model_version(self.registry.name, version).run_id

    def _champion(self) -> ModelArtifact | None:
        found = self.registry.cache.fetch_current(self.registry.name)
        if found is None:
            return None
        _version, blob = found
        return load_artifact(blob, self.registry.signing_key)
