"""The envelope every event carries, and the model configuration they all share."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

from pydantic import BaseModel, ConfigDict, Field

from schemas.fields import NonEmptyStr, UtcDatetime

# Required on the wire even though code may omit them when building an event (defaults).
ENVELOPE_FIELDS: tuple[str, ...] = (
    "event_type",
    "schema_version",
    "event_id",
    "occurred_at",
    "source",
    "trace_id",
)


def utc_now() -> datetime:
    """The current time, UTC aware."""
    return datetime.now(UTC)


def new_trace_id() -> str:
    """A fresh trace id, for an event that starts a chain."""
    return str(uuid4())


def _envelope_required(schema: dict[str, Any]) -> None:
    required = schema.setdefault("required", [])
    required[:0] = [name for name in ENVELOPE_FIELDS if name not in required]


class Event(BaseModel):
    """Base of every event: the envelope fields, frozen, strict, no unknown fields."""

    # strict: no silent "25" -> 25 coercion. JSON input still parses ISO datetimes and UUID
    # strings (model_validate_json); dicts from JSON need model_validate(..., strict=False).
    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        strict=True,
        allow_inf_nan=False,
        json_schema_extra=_envelope_required,
    )

    event_type: str = Field(description="Discriminator: the event class name.")
    schema_version: int = Field(description="Version of this event's schema.")
    event_id: UUID = Field(default_factory=uuid4, description="Unique id of this event.")
    occurred_at: UtcDatetime = Field(default_factory=utc_now, description="When the event was emitted (UTC).")
    source: NonEmptyStr = Field(description="The service or tool that emitted the event.")
    trace_id: NonEmptyStr = Field(
        default_factory=new_trace_id,
        description="Shared by every event of one causal chain (request -> result).",
    )

    def upgrade(self) -> Event:
        """The same event in the newest schema version of its family (itself if newest)."""
        return self
