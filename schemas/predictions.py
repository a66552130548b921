"""Prediction requests (questions) and results (one per request id)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, AwareDatetime, Field, Strict, model_validator

from schemas.envelope import Event
from schemas.fields import Age, FeeEurM, Metrics, NonEmptyStr, Season, Window
from schemas.positions import Position
from schemas.records import TransferCompleted

Millis = Annotated[float, Field(ge=0)]
REPLAY_SOURCE = "replay"
FIRST_YEAR, LAST_YEAR = 1900, 2100  # the seasons a request may be about


def _plausible_utc(value: datetime) -> datetime:
    # Checked before the UTC conversion: year 1 at +01:00 or 9999 at -01:00 overflow there.
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise ValueError(f"out of range: must fall in the years {FIRST_YEAR} to {LAST_YEAR}")
    return value.astimezone(UTC)


# The event time of a question: aware, in the seasons the features know, converted to UTC.
RequestTime = Annotated[AwareDatetime, AfterValidator(_plausible_utc)]
# Strict: JSON false or true is not a market value (lax floats take booleans as 0 and 1).
MarketValue = Annotated[FeeEurM, Strict()]


class _PredictionRequestFields(Event):
    """Fields shared by every version of PredictionRequest."""

    event_type: Literal["PredictionRequest"] = "PredictionRequest"
    request_id: NonEmptyStr = Field(description="Unique per question; results are keyed by it.")
    player_id: NonEmptyStr
    player_name: NonEmptyStr | None = None
    age: Age | None = None
    position: Position
    from_club: NonEmptyStr
    to_club: NonEmptyStr
    league: NonEmptyStr | None = None
    season: Season
    window: Window
    requested_at: RequestTime = Field(description="Event time: features use only what happened before it.")
    transfer_id: NonEmptyStr | None = Field(
        default=None, description="Links a replayed request to the later real fee."
    )


class PredictionRequestV1(_PredictionRequestFields):
    """What fee for this player moving from one club to another? (version 1, parse only)."""

    schema_version: Literal[1] = 1

    def upgrade(self) -> PredictionRequest:
        """Version 2 adds only optional fields: they stay unset."""
        return PredictionRequest.model_validate({**dict(self), "schema_version": 2})


class PredictionRequest(_PredictionRequestFields):
    """What fee for this player moving from one club to another?"""

    schema_version: Literal[2] = 2
    market_value_eur_m: MarketValue | None = Field(
        default=None, description="Market value at request time, when the caller knows it."
    )


def replay_request_id(transfer_id: str) -> str:
    """The request id a replay asks a transfer's prediction under (one per transfer)."""
    return f"replay-{transfer_id}"


def request_from_transfer(t: TransferCompleted) -> PredictionRequest:
    """The question a replay asks just before a transfer's real fee is known.

    The ingester publishes it (``--as-requests``) and the retrainer builds its training rows
    from it, so what is served and what is trained on start from the same request.
    """
    return PredictionRequest(
        request_id=replay_request_id(t.transfer_id),
        player_id=t.player_id,
        player_name=t.player_name,
        age=t.age,
        position=t.position,
        from_club=t.from_club,
        to_club=t.to_club,
        league=t.to_league,
        season=t.season,
        window=t.window,
        requested_at=t.transferred_at,
        transfer_id=t.transfer_id,
        source=REPLAY_SOURCE,
        occurred_at=t.transferred_at,
        trace_id=t.trace_id,
    )


class PredictionResult(Event):
    """The scored answer to one request: a fee, or why there is none."""

    event_type: Literal["PredictionResult"] = "PredictionResult"
    schema_version: Literal[1] = 1
    request_id: NonEmptyStr
    player_id: NonEmptyStr
    transfer_id: NonEmptyStr | None = None
    status: Literal["ok", "no_model", "error"]
    predicted_fee_eur_m: FeeEurM | None = None
    interval_low: float | None = None
    interval_high: float | None = None
    model_name: NonEmptyStr
    model_version: NonEmptyStr | None = None
    features: Metrics = Field(default_factory=dict, description="The vector that was scored.")
    timings: dict[str, Millis] = Field(
        default_factory=dict, description="Milliseconds: queued, scoring, total."
    )
    error: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> PredictionResult:
        if self.status == "ok" and (self.predicted_fee_eur_m is None or not self.model_version):
            raise ValueError("status 'ok' needs predicted_fee_eur_m and model_version")
        if self.status != "ok" and self.predicted_fee_eur_m is not None:
            raise ValueError(f"status {self.status!r} must not carry predicted_fee_eur_m")
        if self.status == "error" and not self.error:
            raise ValueError("status 'error' needs an error message")
        if (self.interval_low is None) != (self.interval_high is None):
            raise ValueError("interval_low and interval_high come together")
        if self.interval_low is not None and self.interval_high is not None:
            if self.interval_low > self.interval_high:
                raise ValueError("interval_low must not exceed interval_high")
        return self
