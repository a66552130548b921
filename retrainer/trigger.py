"""What starts a retrain: drift found by the monitor, or a retrain someone requested."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from schemas.commands import RetrainRequested
from schemas.monitoring import DriftDetected

TriggerKind = Literal["feature", "performance", "requested"]
# Before RetrainRequested, `mlops-fc retrain` sent a DriftDetected with this method; the
# topic keeps them forever, so they are still read as requests.
LEGACY_MANUAL_METHOD = "manual"


@dataclass(frozen=True)
class Trigger:
    """The parts of a triggering event the handler uses, whichever event it was."""

    event_id: str
    trace_id: str
    kind: TriggerKind
    method: str  # the drift method, or who requested the retrain
    model_version: str | None  # the model found drifting (None for a request)
    reason: str | None = None  # why a retrain was requested

    @property
    def skips_cooldown(self) -> bool:
        """Someone asked for this retrain: the cool-down only throttles automatic ones."""
        return self.kind == "requested"

    @classmethod
    def of(cls, event: DriftDetected | RetrainRequested) -> Trigger:
        if isinstance(event, RetrainRequested):
            return cls(
                str(event.event_id), event.trace_id, "requested", event.requested_by, None, event.reason
            )
        if event.method == LEGACY_MANUAL_METHOD:
            return cls(str(event.event_id), event.trace_id, "requested", event.source, event.model_version)
        return cls(str(event.event_id), event.trace_id, event.kind, event.method, event.model_version)
