"""Every event class and version, and how to find one by (event_type, schema_version)."""

from __future__ import annotations

import types
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import Field, TypeAdapter

from schemas.commands import RetrainRequested
from schemas.deadletters import DeadLetter
from schemas.envelope import Event
from schemas.lifecycle import (
    ModelPromoted,
    ModelPromotedV1,
    ModelPromotedV2,
    ModelRegistered,
    ModelRejected,
    ModelRejectedV1,
    ModelRejectedV2,
    ModelRolledBack,
    ModelRolledBackV1,
    ModelShadowed,
)
from schemas.monitoring import DriftDetected
from schemas.predictions import PredictionRequest, PredictionRequestV1, PredictionResult
from schemas.records import PlayerRecord, TransferCompleted
from schemas.season_stats import PlayerSeasonStats, PlayerSeasonStatsV1

# Everything a consumer may receive. Families with several versions are a nested union
# discriminated on schema_version, so one JSON parse picks the class (pydantic-core, no
# Python-side pre-parse).
AnyEvent = Annotated[
    PlayerRecord
    | TransferCompleted
    | Annotated[PredictionRequestV1 | PredictionRequest, Field(discriminator="schema_version")]
    | PredictionResult
    | DriftDetected
    | RetrainRequested
    | ModelRegistered
    | ModelShadowed
    | Annotated[ModelPromotedV1 | ModelPromotedV2 | ModelPromoted, Field(discriminator="schema_version")]
    | Annotated[ModelRejectedV1 | ModelRejectedV2 | ModelRejected, Field(discriminator="schema_version")]
    | Annotated[ModelRolledBackV1 | ModelRolledBack, Field(discriminator="schema_version")]
    | DeadLetter
    | Annotated[PlayerSeasonStatsV1 | PlayerSeasonStats, Field(discriminator="schema_version")],
    Field(discriminator="event_type"),
]
ANY_EVENT: TypeAdapter[Event] = TypeAdapter(AnyEvent)


def event_type_of(cls: type[Event]) -> str:
    """The event_type literal of an event class."""
    return str(cls.model_fields["event_type"].default)


def schema_version_of(cls: type[Event]) -> int:
    """The schema_version literal of an event class."""
    return int(cls.model_fields["schema_version"].default)


def classes_of(schema: Any) -> tuple[type[Event], ...]:
    """The concrete classes a class, union or Annotated union stands for, in order."""
    if isinstance(schema, type) and issubclass(schema, Event):
        return (schema,)
    origin = get_origin(schema)
    if origin is Annotated:
        return classes_of(get_args(schema)[0])
    if origin is Union or origin is types.UnionType:
        return tuple(cls for arg in get_args(schema) for cls in classes_of(arg))
    raise TypeError(f"not an event class or union of them: {schema!r}")


EVENT_CLASSES: tuple[type[Event], ...] = classes_of(AnyEvent)


def _families() -> dict[str, tuple[type[Event], ...]]:
    families: dict[str, list[type[Event]]] = {}
    for cls in EVENT_CLASSES:
        families.setdefault(event_type_of(cls), []).append(cls)
    return {name: tuple(sorted(group, key=schema_version_of)) for name, group in families.items()}


# event_type -> its classes, oldest version first.
FAMILIES: dict[str, tuple[type[Event], ...]] = _families()

LATEST: dict[str, type[Event]] = {name: family[-1] for name, family in FAMILIES.items()}


def family_of(schema: Any) -> tuple[type[Event], ...]:
    """Every version of every event family a class or union belongs to."""
    names = dict.fromkeys(event_type_of(cls) for cls in classes_of(schema))
    return tuple(cls for name in names for cls in FAMILIES[name])


def lookup(event_type: str, schema_version: int) -> type[Event]:
    """The class for one event type and version; KeyError if unknown."""
    for cls in FAMILIES[event_type]:
        if schema_version_of(cls) == schema_version:
            return cls
    raise KeyError(f"{event_type} has no schema_version {schema_version}")


def upgrade_to_latest(event: Event) -> Event:
    """Walk an event up its family's versions until the newest."""
    while True:
        newer = event.upgrade()
        if newer is event:
            return event
        event = newer
