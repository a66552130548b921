"""Model lifecycle: registered, shadowed, promoted, rejected, rolled back. Workers hot-swap on it.

Version 2 of the verdict events (promoted, rejected, rolled back) adds only the optional
``evidence`` of a shadow judgement: version 1 messages still parse and upgrade to it.
Version 3 of promoted and rejected widens that evidence to the holdout gate's
(schemas/evidence.HoldoutEvidence): every decision the system takes names what it compared.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints, model_validator

from schemas.envelope import Event
from schemas.evidence import DecisionEvidence, ShadowEvidence
from schemas.fields import Metrics, NonEmptyStr, UtcDatetime

Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]


class ModelRegistered(Event):
    """A trained model was registered (not yet serving)."""

    event_type: Literal["ModelRegistered"] = "ModelRegistered"
    schema_version: Literal[1] = 1
    model_name: NonEmptyStr
    version: NonEmptyStr = Field(description="Registry version, e.g. MLflow's '3'.")
    run_id: NonEmptyStr
    metrics: Metrics = Field(default_factory=dict)
    train_from: UtcDatetime | None = Field(default=None, description="Oldest training event.")
    train_to: UtcDatetime = Field(description="Newest training event (exclusive cut-off).")
    train_rows: int = Field(ge=0)

    @model_validator(mode="after")
    def _window(self) -> ModelRegistered:
        if self.train_from is not None and self.train_to < self.train_from:
            raise ValueError("train_to is before train_from")
        return self


class _ModelPromotedFields(Event):
    """A model became the champion; its signed artifact is in Redis."""

    event_type: Literal["ModelPromoted"] = "ModelPromoted"
    model_name: NonEmptyStr
    version: NonEmptyStr
    previous_version: NonEmptyStr | None = None
    artifact_key: NonEmptyStr = Field(description="Redis key of the artifact.")
    artifact_sha256: Sha256 = Field(description="Checked before loading the artifact.")
    reason: NonEmptyStr


class ModelPromotedV1(_ModelPromotedFields):
    """A model became the champion; its signed artifact is in Redis; version 1, without evidence."""

    schema_version: Literal[1] = 1

    def upgrade(self) -> ModelPromotedV2:
        """Version 2 adds only the optional evidence: it stays unset."""
        return ModelPromotedV2.model_validate({**dict(self), "schema_version": 2})


class ModelPromotedV2(_ModelPromotedFields):
    """A model became the champion; its signed artifact is in Redis; version 2, shadow evidence only."""

    schema_version: Literal[2] = 2
    evidence: ShadowEvidence | None = Field(default=None, description="The shadow judgement, if any.")

    def upgrade(self) -> ModelPromoted:
        """Version 3 only widens the evidence: the shadow judgement (or none) is kept."""
        return ModelPromoted.model_validate({**dict(self), "schema_version": 3})


class ModelPromoted(_ModelPromotedFields):
    """A model became the champion; its signed artifact is in Redis."""

    schema_version: Literal[3] = 3
    evidence: DecisionEvidence | None = Field(
        default=None, description="What decided it: the shadow judgement or the holdout gate."
    )


class _ModelRejectedFields(Event):
    """A challenger was not better than the champion and stays unserved."""

    event_type: Literal["ModelRejected"] = "ModelRejected"
    model_name: NonEmptyStr
    version: NonEmptyStr
    reason: NonEmptyStr
    challenger_metrics: Metrics
    champion_metrics: Metrics


class ModelRejectedV1(_ModelRejectedFields):
    """A challenger was not better than the champion and stays unserved; version 1, without evidence."""

    schema_version: Literal[1] = 1

    def upgrade(self) -> ModelRejectedV2:
        """Version 2 adds only the optional evidence: it stays unset."""
        return ModelRejectedV2.model_validate({**dict(self), "schema_version": 2})


class ModelRejectedV2(_ModelRejectedFields):
    """A challenger was not better than the champion and stays unserved; version 2, shadow evidence only."""

    schema_version: Literal[2] = 2
    evidence: ShadowEvidence | None = Field(default=None, description="The shadow judgement, if any.")

    def upgrade(self) -> ModelRejected:
        """Version 3 only widens the evidence: the shadow judgement (or none) is kept."""
        return ModelRejected.model_validate({**dict(self), "schema_version": 3})


class ModelRejected(_ModelRejectedFields):
    """A challenger was not better than the champion and stays unserved."""

    schema_version: Literal[3] = 3
    evidence: DecisionEvidence | None = Field(
        default=None, description="What decided it: the shadow judgement or the holdout gate."
    )


class _ModelRolledBackFields(Event):
    """Serving went back to an earlier version; workers swap to its artifact."""

    event_type: Literal["ModelRolledBack"] = "ModelRolledBack"
    model_name: NonEmptyStr
    from_version: NonEmptyStr
    to_version: NonEmptyStr
    # Carried so workers can swap without asking the registry which artifact to load.
    artifact_key: NonEmptyStr
    artifact_sha256: Sha256
    reason: NonEmptyStr


class ModelRolledBackV1(_ModelRolledBackFields):
    """Serving went back to an earlier version; workers swap to its artifact; version 1, without evidence."""

    schema_version: Literal[1] = 1

    def upgrade(self) -> ModelRolledBack:
        """Version 2 adds only the optional evidence: it stays unset."""
        return ModelRolledBack.model_validate({**dict(self), "schema_version": 2})


class ModelRolledBack(_ModelRolledBackFields):
    """Serving went back to an earlier version; workers swap to its artifact."""

    schema_version: Literal[2] = 2
    evidence: ShadowEvidence | None = Field(default=None, description="The shadow judgement, if any.")


class ModelShadowed(Event):
    """A challenger passed the holdout gate and now scores every request in shadow."""

    event_type: Literal["ModelShadowed"] = "ModelShadowed"
    schema_version: Literal[1] = 1
    model_name: NonEmptyStr
    version: NonEmptyStr = Field(description="The challenger in shadow.")
    champion_version: NonEmptyStr | None = Field(default=None, description="The model it is judged against.")
    artifact_key: NonEmptyStr = Field(description="Redis key of the challenger's artifact.")
    artifact_sha256: Sha256 = Field(description="Checked before loading the artifact.")
    replaces_version: NonEmptyStr | None = Field(
        default=None, description="An undecided challenger this one replaces (one shadow at a time)."
    )
    reason: NonEmptyStr = Field(description="Why it is in shadow (e.g. its holdout result).")


ModelLifecycleEvent = Annotated[
    ModelRegistered
    | ModelShadowed
    | Annotated[ModelPromotedV1 | ModelPromotedV2 | ModelPromoted, Field(discriminator="schema_version")]
    | Annotated[ModelRejectedV1 | ModelRejectedV2 | ModelRejected, Field(discriminator="schema_version")]
    | Annotated[ModelRolledBackV1 | ModelRolledBack, Field(discriminator="schema_version")],
    Field(discriminator="event_type"),
]
