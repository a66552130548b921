"""Field types shared by the event models: one definition per unit and range."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, AwareDatetime, Field, StringConstraints


def _to_utc(value: datetime) -> datetime:
    # 9999-12-31T23:59:59-01:00 or 0001-01-01T00:00:00+01:00 has no UTC datetime: astimezone
    # raises OverflowError, which pydantic would let escape; a ValueError becomes a field error.
    try:
        return value.astimezone(UTC)
    except OverflowError as exc:
        raise ValueError("timestamp is out of range once converted to UTC") from exc


# Aware only: a naive timestamp is ambiguous across hosts, so it is rejected, never guessed.
UtcDatetime = Annotated[AwareDatetime, AfterValidator(_to_utc)]
NonEmptyStr = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Age = Annotated[int, Field(ge=15, le=45, description="Age in years at the event time.")]
# The upper bound catches fees sent in euros instead of millions.
FeeEurM = Annotated[float, Field(ge=0, le=1000, description="Fee in millions of euros.")]
Season = Annotated[int, Field(ge=1900, le=2100, description="Start year: 2012 for 2012/13.")]
Window = Literal["summer", "winter"]
Metrics = dict[str, float]
