"""The drift handler's branches with in-memory ports: fresh retrains, crash recovery, lost locks."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import cast

import pytest

from modelstore.artifact import ModelArtifact
from modelstore.exceptions import PromotionRefusedError
from modelstore.mlflow_registry import RegisteredArtifact
from retrainer.challenger import Comparison
from retrainer.exceptions import LockLostError, NotEnoughNewData
from retrainer.handler import PARAM_EVIDENCE, DriftHandler
from retrainer.ports import Decision, OutcomeStatus
from retrainer.trigger import Trigger
from retrainer.window import TrainingWindow
from schemas.commands import RetrainRequested
from schemas.evidence import HoldoutEvidence
from schemas.examples import example_of
from schemas.monitoring import DriftDetected

CHALLENGER = cast(ModelArtifact, object())  # the fakes only pass it along


@dataclass
class Version:
    trigger: str
    decision: Decision
    reason: str
    outcome: OutcomeStatus | None = None
    evidence: HoldoutEvidence | None = None  # as the run's params keep it


@dataclass
class FakeRegistry:
    """VersionRegistry and LifecyclePublisher over one dict; ``published`` is models.lifecycle."""

    versions: dict[str, Version] = field(default_factory=dict)
    champion_version: str | None = "1"
    half_registered: list[str] = field(default_factory=list)
    refused: set[str] = field(default_factory=set)
    published: list[tuple[str, str]] = field(default_factory=list)
    in_shadow: str | None = None
    announced: dict[tuple[str, str], HoldoutEvidence | None] = field(default_factory=dict)  # its evidence

    def remove_half_registered(self) -> list[str]:
        removed, self.half_registered = self.half_registered, []
        return removed

    def version_for_trigger(self, event_id: str) -> str | None:
        return next((v for v, info in self.versions.items() if info.trigger == event_id), None)

    def outcome(self, version: str) -> OutcomeStatus | None:
        return self.versions[version].outcome

    def decision(self, version: str) -> tuple[Decision, str]:
        return self.versions[version].decision, self.versions[version].reason

    def gate_evidence(self, version: str) -> HoldoutEvidence | None:
        return self.versions[version].evidence

    def record_outcome(self, version: str, status: OutcomeStatus) -> None:
        self.versions[version].outcome = status

    def champion(self) -> str | None:
        return self.champion_version

    def register(
        self,
        artifact: ModelArtifact,
        run_name: str,
        params: Mapping[str, object],
        metrics: dict[str, float] | None = None,
        trace_id: str | None = None,
    ) -> RegisteredArtifact:
        version = str(len(self.versions) + 2)  # version 1 is the champion
        decision = cast(Decision, params["decision"])
        evidence = HoldoutEvidence.model_validate_json(str(params[PARAM_EVIDENCE]))
        self.versions[version] = Version(
            str(params["trigger_event_id"]), decision, str(params["reason"]), evidence=evidence
        )
        self.published.append(("registered", version))
        return RegisteredArtifact(version, "run", b"blob", "0" * 64, artifact)

    def promote(
        self,
        registered: RegisteredArtifact,
        reason: str,
        trace_id: str | None = None,
        evidence: HoldoutEvidence | None = None,
    ) -> None:
        self.promote_existing(registered.version, reason, evidence)

    def promote_existing(self, version: str, reason: str, evidence: HoldoutEvidence | None = None) -> None:
        if version in self.refused:
            raise PromotionRefusedError(f"version {version} refused: signature; nothing was moved")
        self.champion_version = version
        self.published.append(("promoted", version))
        self.announced[("promoted", version)] = evidence

    def reject(
        self,
        version: str,
        reason: str,
        *_metrics: object,
        trace_id: str | None = None,
        evidence: HoldoutEvidence | None = None,
    ) -> None:
        self.published.append(("rejected", version))
        self.announced[("rejected", version)] = evidence

    def shadow(self, registered: RegisteredArtifact, reason: str, trace_id: str | None = None) -> None:
        self.shadow_existing(registered.version, reason)

    def shadow_existing(self, version: str, reason: str) -> None:
        self.in_shadow = version
        self.published.append(("shadowed", version))

    def shadow_version(self) -> str | None:
        return self.in_shadow


@dataclass
class FakeLock:
    """Lost from the ``lose_at``-th check on (1-based), until ``regain()``."""

    lose_at: int | None = None
    checks: int = 0

    def check(self) -> None:
        self.checks += 1
        if self.lose_at is not None and self.checks >= self.lose_at:
            raise LockLostError("lost the retrain lock")

    def regain(self) -> None:
        self.lose_at = None


@dataclass
class FakeChallengers:
    challenger_mae: float = 0.5
    champion_mae: float = 1.0
    not_enough: bool = False
    trained: int = 0

    def challenge(self, champion: ModelArtifact | None, tags: dict[str, str]) -> tuple[Comparison, int]:
        self.trained += 1
        if self.not_enough:
            raise NotEnoughNewData("only 12 paid transfers since the champion's training window")
        metrics = {"mae_log": self.challenger_mae, "rows": 100.0}
        old = {"mae_log": self.champion_mae}
        return Comparison(CHALLENGER, metrics, old, 0.02, champion_version="1"), 0


@dataclass
class FakeCooldown:
    last: float | None = None

    def last_retrain_at(self) -> float | None:
        return self.last

    def mark_retrain(self, at: float) -> None:
        self.last = at


class NoChampion:
    def champion_artifact(self) -> ModelArtifact | None:
        return None


@dataclass
class World:
    registry: FakeRegistry = field(default_factory=FakeRegistry)
    lock: FakeLock = field(default_factory=FakeLock)
    challengers: FakeChallengers = field(default_factory=FakeChallengers)
    cooldown: FakeCooldown = field(default_factory=FakeCooldown)

    @property
    def handler(self) -> DriftHandler:
        return DriftHandler(
            versions=self.registry,
            lifecycle=self.registry,
            champions=NoChampion(),
            cooldown=self.cooldown,
            lock=self.lock,
            challengers=self.challengers,
            window=TrainingWindow.parse("all"),
            cooldown_s=300.0,
        )


def drift(**changes: object) -> Trigger:
    return Trigger.of(example_of(DriftDetected, **changes))


def requested() -> Trigger:
    return Trigger.of(example_of(RetrainRequested))


def test_a_better_challenger_is_registered_promoted_and_recorded() -> None:
    world = World()
    outcome = world.handler.handle(drift())
    assert (outcome.status, outcome.version) == ("promoted", "2")
    assert world.registry.published == [("registered", "2"), ("promoted", "2")]
    assert world.registry.versions["2"].outcome == "promoted" and world.cooldown.last is not None
    evidence = world.registry.announced[("promoted", "2")]  # the gate's figures, as logged
    assert evidence == world.registry.versions["2"].evidence
    assert evidence is not None and evidence.method == "holdout" and evidence.champion_version == "1"
    assert (evidence.rows, evidence.challenger_mean_error, evidence.champion_mean_error) == (100, 0.5, 1.0)
    assert evidence.margin == 0.02


def test_a_worse_challenger_is_registered_and_rejected() -> None:
    world = World(challengers=FakeChallengers(challenger_mae=1.5))
    outcome = world.handler.handle(drift())
    assert outcome.status == "rejected" and world.registry.champion_version == "1"
    assert world.registry.published == [("registered", "2"), ("rejected", "2")]
    evidence = world.registry.announced[("rejected", "2")]
    assert evidence is not None and (evidence.challenger_mean_error, evidence.champion_mean_error) == (
        1.5,
        1.0,
    )


def test_half_registered_versions_are_removed_before_anything_else() -> None:
    world = World(registry=FakeRegistry(half_registered=["7"]))
    assert world.handler.handle(drift()).status == "promoted"
    assert world.registry.half_registered == []


def test_an_event_already_answered_is_skipped_without_training_or_publishing() -> None:
    trigger = drift()
    world = World(
        registry=FakeRegistry(versions={"2": Version(trigger.event_id, "promote", "won", "promoted")})
    )
    outcome = world.handler.handle(trigger)
    assert outcome.status == "skipped" and "already handled: version 2 promoted" in outcome.reason
    assert world.registry.published == [] and world.challengers.trained == 0


GATE = HoldoutEvidence(
    method="holdout",
    rows=80,
    champion_version="1",
    champion_mean_error=0.7,
    challenger_mean_error=0.6,
    margin=0.02,
)


def test_a_promotion_cut_short_by_a_crash_is_carried_out_once() -> None:
    trigger = drift()
    versions = {"2": Version(trigger.event_id, "promote", "won", evidence=GATE)}
    world = World(registry=FakeRegistry(versions=versions))
    outcome = world.handler.handle(trigger)
    assert (outcome.status, outcome.version) == ("promoted", "2") and world.challengers.trained == 0
    assert world.registry.published == [("promoted", "2")]
    assert world.registry.announced[("promoted", "2")] == GATE  # the evidence it was decided on


def test_a_crash_after_the_promotion_only_records_the_outcome() -> None:
    trigger = drift()
    registry = FakeRegistry(versions={"2": Version(trigger.event_id, "promote", "won")}, champion_version="2")
    world = World(registry=registry)
    assert world.handler.handle(trigger).status == "promoted"
    assert registry.published == [] and registry.versions["2"].outcome == "promoted"


def test_a_rejection_cut_short_by_a_crash_is_published_once() -> None:
    trigger = drift()
    world = World(
        registry=FakeRegistry(versions={"2": Version(trigger.event_id, "reject", "lost", evidence=GATE)})
    )
    assert world.handler.handle(trigger).status == "rejected"
    assert world.registry.published == [("rejected", "2")]
    assert world.registry.announced[("rejected", "2")] == GATE


def test_a_pending_promotion_whose_artifact_is_now_refused_becomes_a_rejection() -> None:
    trigger = drift()
    registry = FakeRegistry(versions={"2": Version(trigger.event_id, "promote", "won")}, refused={"2"})
    outcome = World(registry=registry).handler.handle(trigger)
    assert outcome.status == "rejected" and "refused" in outcome.reason
    assert registry.published == [("rejected", "2")] and registry.champion_version == "1"


def test_drift_inside_the_cool_down_is_skipped_but_a_request_is_not() -> None:
    world = World()
    assert world.handler.handle(drift()).status == "promoted"
    skipped = world.handler.handle(drift(event_id=example_of(RetrainRequested).event_id))
    assert skipped.status == "skipped" and "cool-down" in skipped.reason
    assert world.handler.handle(requested()).status == "promoted"


def test_too_little_new_data_is_skipped_with_the_reason() -> None:
    world = World(challengers=FakeChallengers(not_enough=True))
    outcome = world.handler.handle(drift())
    assert outcome.status == "skipped" and "only 12 paid transfers" in outcome.reason
    assert world.registry.published == []


def test_a_lock_lost_while_training_publishes_nothing_and_the_retry_trains_once() -> None:
    trigger = drift()
    world = World(lock=FakeLock(lose_at=1))  # the check just before registering fails
    with pytest.raises(LockLostError):
        world.handler.handle(trigger)
    assert world.registry.published == [] and world.registry.versions == {}
    world.lock.regain()
    assert world.handler.handle(trigger).status == "promoted"
    assert world.registry.published == [("registered", "2"), ("promoted", "2")]


def test_a_lock_lost_after_registering_is_finished_by_the_retry_without_retraining() -> None:
    trigger = drift()
    world = World(lock=FakeLock(lose_at=2))  # registered, then the check before promoting fails
    with pytest.raises(LockLostError):
        world.handler.handle(trigger)
    assert world.registry.published == [("registered", "2")]
    world.lock.regain()
    assert world.handler.handle(trigger).status == "promoted"
    assert world.registry.published == [("registered", "2"), ("promoted", "2")]
    assert world.challengers.trained == 1


def test_triggers_from_drift_a_request_and_a_legacy_manual_drift() -> None:
    feature = drift()
    assert (feature.kind, feature.method, feature.skips_cooldown) == (
        "feature",
        "evidently:wasserstein",
        False,
    )
    asked = requested()
    assert (asked.kind, asked.method, asked.skips_cooldown) == ("requested", "ana@ops", True)
    assert asked.reason == "new season's transfers are in" and asked.model_version is None
    legacy = drift(method="manual", source="cli")
    assert (legacy.kind, legacy.method, legacy.skips_cooldown) == ("requested", "cli", True)
