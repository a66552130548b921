"""What the drift handler needs from the outside world, as small Protocols.

Production adapters are in retrainer.adapters (MLflow, Redis, Kafka); unit tests use
in-memory fakes, so the crash-recovery branches run without a stack.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal, Protocol

from modelstore.artifact import ModelArtifact
from modelstore.mlflow_registry import RegisteredArtifact
from retrainer.challenger import Comparison
from schemas.evidence import HoldoutEvidence

OutcomeStatus = Literal["promoted", "shadowed", "rejected", "skipped"]
Decision = Literal["promote", "shadow", "reject"]


class VersionRegistry(Protocol):
    """The registry's memory of versions: which trigger made which, and how it ended."""

    def remove_half_registered(self) -> list[str]:
        """Delete versions a crash left without their signed blob; returns their numbers."""
        ...

    def version_for_trigger(self, event_id: str) -> str | None:
        """The version a trigger event produced before, if any."""
        ...

    def outcome(self, version: str) -> OutcomeStatus | None:
        """How the version's trigger was answered, if it was."""
        ...

    def decision(self, version: str) -> tuple[Decision, str]:
        """What was decided for the version when it was registered, and why."""
        ...

    def gate_evidence(self, version: str) -> HoldoutEvidence | None:
        """The holdout figures the decision was taken on (None for a version logged without them)."""
        ...

    def record_outcome(self, version: str, status: OutcomeStatus) -> None: ...

    def champion(self) -> str | None: ...


class LifecyclePublisher(Protocol):
    """Moves models and announces it: MLflow, Redis and models.lifecycle together."""

    def register(
        self,
        artifact: ModelArtifact,
        run_name: str,
        params: Mapping[str, object],
        metrics: dict[str, float] | None = None,
        trace_id: str | None = None,
    ) -> RegisteredArtifact: ...

    def promote(
        self,
        registered: RegisteredArtifact,
        reason: str,
        trace_id: str | None = None,
        evidence: HoldoutEvidence | None = None,
    ) -> object: ...

    def promote_existing(
        self, version: str, reason: str, evidence: HoldoutEvidence | None = None
    ) -> object: ...

    def shadow(self, registered: RegisteredArtifact, reason: str, trace_id: str | None = None) -> object:
        """Publish the challenger as ModelShadowed: it scores in shadow until the monitor's verdict."""
        ...

    def shadow_existing(self, version: str, reason: str) -> object: ...

    def shadow_version(self) -> str | None:
        """The challenger in shadow now, if any."""
        ...

    def reject(
        self,
        version: str,
        reason: str,
        challenger: dict[str, float] | None = None,
        champion: dict[str, float] | None = None,
        trace_id: str | None = None,
        evidence: HoldoutEvidence | None = None,
    ) -> object: ...


class ChampionCache(Protocol):
    """The serving model as the workers load it (the Redis model cache), verified."""

    def champion_artifact(self) -> ModelArtifact | None: ...


class Cooldown(Protocol):
    """When the last retrain finished, shared by every retrainer process."""

    def last_retrain_at(self) -> float | None: ...

    def mark_retrain(self, at: float) -> None: ...


class LockCheck(Protocol):
    """The retrain lock as the handler sees it: proven before every step others would see."""

    def check(self) -> None:
        """Raise LockLostError if the lock is no longer ours."""
        ...


class Challengers(Protocol):
    """Trains a challenger on the event history and compares it with the champion."""

    def challenge(self, champion: ModelArtifact | None, tags: dict[str, str]) -> tuple[Comparison, int]:
        """The comparison, and how many history messages did not decode."""
        ...
