"""Model lifecycle: registered, promoted, rejected, rolled back. Workers hot-swap on it."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints, model_validator

from schemas.envelope import Event
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


class ModelPromoted(Event):
    """A model became the champion; its signed artifact is in Redis."""

    event_type: Literal["ModelPromoted"] = "ModelPromoted"
    schema_version: Literal[1] = 1
    model_name: NonEmptyStr
    version: NonEmptyStr
    previous_version: NonEmptyStr | None = None
    artifact_key: NonEmptyStr = Field(description="Redis key of the artifact.")
    artifact_sha256: Sha256 = Field(description="Checked before loading the artifact.")
    reason: NonEmptyStr


class ModelRejected(Event):
    """A challenger was not better than the champion and stays unserved."""

    event_type: Literal["ModelRejected"] = "ModelRejected"
    schema_version: Literal[1] = 1
    model_name: NonEmptyStr
    version: NonEmptyStr
    reason: NonEmptyStr
    challenger_metrics: Metrics
    champion_metrics: Metrics


class ModelRolledBack(Event):
    """Serving went back to an earlier version; workers swap to its artifact."""

    event_type: Literal["ModelRolledBack"] = "ModelRolledBack"
    schema_version: Literal[1] = 1
    model_name: NonEmptyStr
    from_version: NonEmptyStr
    to_version: NonEmptyStr
    # Carried so workers can swap without asking the registry which artifact to load.
    artifact_key: NonEmptyStr
    artifact_sha256: Sha256
    reason: NonEmptyStr


ModelLifecycleEvent = Annotated[
    ModelRegistered | ModelPromoted | ModelRejected | ModelRolledBack,
    Field(discriminator="event_type"),
]
