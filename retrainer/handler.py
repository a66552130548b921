"""Handle one retrain trigger: retrain, compare, register, then promote, shadow or reject — exactly once.

In shadow mode (MLOPS_FC_PROMOTION=shadow) a challenger that passes the holdout gate while a
champion serves is published as ModelShadowed instead: the monitor promotes or rejects it on
the real fees (monitoring/shadow_decider.py).

Exactly once across crashes comes from the registry, not from memory: the version a trigger
produced carries the event id in its run's parameters and, once decided, an outcome tag. A
restarted retrainer that meets the same event again finds its version and finishes (or
skips) it instead of training a second one; half-registered versions are removed first.
The lock is proven before each step others would see, so a retrain whose lock lapsed stops
without publishing; its event is handled again, by the same recovery.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from modelstore.exceptions import PromotionRefusedError
from retrainer.exceptions import NotEnoughNewData
from retrainer.ports import (
    Challengers,
    ChampionCache,
    Cooldown,
    Decision,
    LifecyclePublisher,
    LockCheck,
    OutcomeStatus,
    VersionRegistry,
)
from retrainer.trigger import Trigger
from retrainer.window import TrainingWindow

log = logging.getLogger(__name__)
TAG_OUTCOME = "mlfc.outcome"
PARAM_TRIGGER = "trigger_event_id"
PARAM_EVIDENCE = "holdout_evidence"  # the gate's HoldoutEvidence as JSON: a restart announces the same


@dataclass(frozen=True)
class Outcome:
    status: OutcomeStatus
    reason: str
    version: str | None = None


@dataclass
class DriftHandler:
    """Turns retrain triggers into registry outcomes; one instance per retrainer process."""

    versions: VersionRegistry
    lifecycle: LifecyclePublisher
    champions: ChampionCache
    cooldown: Cooldown
    lock: LockCheck
    challengers: Challengers
    window: TrainingWindow
    cooldown_s: float
    promotion: str = "holdout"  # "shadow": a challenger that passes the gate scores in shadow first

    def handle(self, trigger: Trigger) -> Outcome:
        removed = self.versions.remove_half_registered()
        if removed:
            log.warning("removed half-registered versions %s left by an earlier crash", removed)
        earlier = self.versions.version_for_trigger(trigger.event_id)
        if earlier is not None:
            return self._finish(earlier, trigger)
        if not trigger.skips_cooldown and (wait := self._cooldown_left()) > 0:
            return Outcome("skipped", f"cool-down: next retrain allowed in {wait:.0f}s")
        if (pending := self._pending_challenger(trigger)) is not None:
            return Outcome(
                "skipped", f"version {pending} is in shadow for an earlier drift: its verdict comes first"
            )
        return self._retrain(trigger)

    def _pending_challenger(self, trigger: Trigger) -> str | None:
        """The challenger in shadow that an automatic trigger must not replace, if any.

        The champion keeps drifting while its challenger is judged (the challenger is the
        answer to that drift), and a replaced challenger's labelled pairs are thrown away: in
        bench/promotion.py every such replacement left an older champion serving for
        another window or two. The wait is bounded by the verdict's own limits (max pairs,
        max age); a requested retrain still replaces it.
        """
        if self.promotion != "shadow" or trigger.kind == "requested":
            return None
        return self.lifecycle.shadow_version()

    def _retrain(self, trigger: Trigger) -> Outcome:
        started = time.monotonic()
        champion = self.champions.champion_artifact()
        tags = {"trigger": trigger.kind, PARAM_TRIGGER: trigger.event_id}
        try:
            comparison, undecodable = self.challengers.challenge(champion, tags)
        except NotEnoughNewData as exc:
            return Outcome("skipped", str(exc))
        evidence = comparison.evidence
        decision: Decision = "promote" if comparison.better else "reject"
        if decision == "promote" and self.promotion == "shadow" and champion is not None:
            decision = "shadow"  # judged on the real fees by the monitor before it serves
        params = {
            PARAM_TRIGGER: trigger.event_id,
            "trigger_kind": trigger.kind,
            "trigger_method": trigger.method,
            "trigger_reason": (trigger.reason or "")[:500],
            "drifted_version": trigger.model_version,
            "window": str(self.window),
            "decision": decision,
            "reason": comparison.reason[:500],
            "champion_version": champion.version if champion else None,
            "undecodable_transfers": undecodable,
            PARAM_EVIDENCE: evidence.model_dump_json(),
        }
        metrics = {f"holdout_{k}": v for k, v in comparison.challenger_metrics.items()}
        metrics.update({f"champion_holdout_{k}": v for k, v in comparison.champion_metrics.items()})
        metrics["train_seconds"] = time.monotonic() - started
        self.lock.check()  # nothing registered yet: a lapsed lock leaves no trace
        trained = time.monotonic()
        registered = self.lifecycle.register(
            comparison.challenger,
            run_name=f"challenger-{trigger.event_id[:8]}",
            params=params,
            metrics=metrics,
            trace_id=trigger.trace_id,
        )
        self.lock.check()
        registered_at = time.monotonic()
        if decision == "shadow":
            self.lifecycle.shadow(registered, reason=comparison.reason, trace_id=trigger.trace_id)
        elif decision == "promote":
            self.lifecycle.promote(
                registered, reason=comparison.reason, trace_id=trigger.trace_id, evidence=evidence
            )
        else:
            self.lifecycle.reject(
                registered.version,
                comparison.reason,
                comparison.challenger_metrics,
                comparison.champion_metrics,
                trace_id=trigger.trace_id,
                evidence=evidence,
            )
        outcome = self._record(registered.version, decision, comparison.reason)
        # The main job's bench reads this line: where a retrain's time goes.
        log.info(
            "timing trigger %s: train %.2fs register %.2fs %s %.2fs",
            trigger.event_id,
            trained - started,
            registered_at - trained,
            decision,
            time.monotonic() - registered_at,
        )
        return outcome

    def _finish(self, version: str, trigger: Trigger) -> Outcome:
        """The event was seen before a crash: skip it if decided, else carry out its decision."""
        outcome = self.versions.outcome(version)
        if outcome is not None:
            return Outcome("skipped", f"already handled: version {version} {outcome}", version)
        decision, reason = self.versions.decision(version)
        evidence = self.versions.gate_evidence(version)  # what the decision was taken on
        self.lock.check()
        if decision == "promote" and self.versions.champion() != version:  # crashed before promoting
            try:
                self.lifecycle.promote_existing(version, reason=reason, evidence=evidence)
            except PromotionRefusedError as exc:  # its artifact changed since: it must not serve
                decision, reason = "reject", str(exc)
                self.lifecycle.reject(version, reason, evidence=evidence)
        elif decision == "shadow" and self.lifecycle.shadow_version() != version:
            try:  # crashed before shadowing (a verdict since would have left an outcome tag)
                self.lifecycle.shadow_existing(version, reason=reason)
            except PromotionRefusedError as exc:
                decision, reason = "reject", str(exc)
                self.lifecycle.reject(version, reason, evidence=evidence)
        elif decision == "reject":
            self.lifecycle.reject(version, reason, evidence=evidence)
        log.warning("finished trigger %s after a restart: version %s", trigger.event_id, version)
        return self._record(version, decision, reason)

    def _record(self, version: str, decision: Decision, reason: str) -> Outcome:
        status: OutcomeStatus = {"promote": "promoted", "shadow": "shadowed"}.get(decision, "rejected")  # type: ignore[assignment]
        self.versions.record_outcome(version, status)
        self.cooldown.mark_retrain(time.time())
        return Outcome(status, reason, version)

    def _cooldown_left(self) -> float:
        last = self.cooldown.last_retrain_at()
        return 0.0 if last is None else last + self.cooldown_s - time.time()
