"""Drift detected by the monitor, consumed by the retrainer."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from schemas.envelope import Event
from schemas.fields import Metrics, NonEmptyStr, UtcDatetime


class DriftDetected(Event):
    """A recent window drifted from the current model's reference (features or error)."""

    event_type: Literal["DriftDetected"] = "DriftDetected"
    schema_version: Literal[1] = 1
    model_name: NonEmptyStr
    model_version: NonEmptyStr = Field(description="The model whose reference was compared.")
    kind: Literal["feature", "performance"]
    method: NonEmptyStr = Field(description="e.g. 'evidently:wasserstein', 'mae_ratio'.")
    window_start: UtcDatetime
    window_end: UtcDatetime
    window_size: int = Field(ge=0, description="Events in the window.")
    scores: Metrics = Field(default_factory=dict, description="Drift score per feature.")
    threshold: float
    share_drifted: float | None = Field(default=None, ge=0, le=1)
    online_error: float | None = Field(default=None, ge=0, description="Recent error (MAE).")
    reference_error: float | None = Field(default=None, ge=0)
    report_uri: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> DriftDetected:
        if self.window_end < self.window_start:
            raise ValueError("window_end is before window_start")
        if self.kind == "performance" and self.online_error is None:
            raise ValueError("performance drift needs online_error")
        return self
