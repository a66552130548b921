"""Bodies of the REST facade: what callers send, and the envelopes of what they get back.

Callers send only the question; the facade fills the event envelope (source, ids, times).
Fields reuse the event schema's types, so the facade refuses what the worker would refuse.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from schemas.envelope import utc_now
from schemas.exceptions import UnknownPositionError
from schemas.fields import Age, NonEmptyStr, Season, Window
from schemas.positions import normalise_position
from schemas.predictions import MarketValue, PredictionRequest, PredictionResult, RequestTime

RequestId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")]
ShortStr = Annotated[NonEmptyStr, StringConstraints(max_length=200)]
SUMMER_MONTHS = (6, 7, 8, 9)


class PredictionIn(BaseModel):
    """A question: what fee for this player moving from one club to another?"""

    model_config = ConfigDict(
        extra="forbid",
        allow_inf_nan=False,
        json_schema_extra={
            "examples": [
                {
                    "player_id": "p-7",
                    "position": "Centre-Back",
                    "from_club": "Club 03",
                    "to_club": "Club 08",
                    "season": 2024,
                    "window": "summer",
                }
            ]
        },
    )

    request_id: RequestId | None = Field(
        default=None, description="Your id for the question (idempotent); one is made up when absent."
    )
    player_id: ShortStr
    player_name: ShortStr | None = None
    age: Age | None = None
    position: ShortStr = Field(description="Centre-Back, Left Winger, ... or an alias (CB, attack).")
    from_club: ShortStr
    to_club: ShortStr
    league: ShortStr | None = Field(default=None, description="The buying club's league, if known.")
    season: Season | None = Field(default=None, description="Season start year; from requested_at if absent.")
    window: Window | None = Field(default=None, description="summer or winter; from requested_at if absent.")
    requested_at: RequestTime | None = Field(
        default=None, description="Event time (with a time zone); now if absent."
    )
    market_value_eur_m: MarketValue | None = None

    @field_validator("position")
    @classmethod
    def _canonical_position(cls, value: str) -> str:
        try:
            return normalise_position(value)
        except UnknownPositionError as exc:
            raise ValueError(str(exc)) from exc

    def to_request(self, request_id: str, source: str = "api") -> PredictionRequest:
        at = self.requested_at or utc_now()
        season = self.season if self.season is not None else (at.year if at.month >= 7 else at.year - 1)
        window = self.window or ("summer" if at.month in SUMMER_MONTHS else "winter")
        return PredictionRequest(
            source=source,
            request_id=request_id,
            player_id=self.player_id,
            player_name=self.player_name,
            age=self.age,
            position=self.position,  # type: ignore[arg-type]  # canonical after the validator
            from_club=self.from_club,
            to_club=self.to_club,
            league=self.league,
            season=season,
            window=window,
            requested_at=at,
            market_value_eur_m=self.market_value_eur_m,
        )


class BatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    requests: list[PredictionIn] = Field(min_length=1, description="At most MLOPS_FC_API_BATCH_MAX.")


class Pending(BaseModel):
    """No result yet: look it up later at ``location``."""

    request_id: str
    status: Literal["pending"] = "pending"
    location: str


class BatchOut(BaseModel):
    results: list[PredictionResult]
    pending: list[Pending]


class ModelAction(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: ShortStr = "changed through the REST facade"


class PlayerOut(BaseModel):
    player_id: str
    record: dict[str, Any] = Field(description="Latest PlayerRecord, or the transfer that last placed them.")
    transfers: int
    season_records: list[dict[str, Any]] = Field(
        default_factory=list, description="The player's PlayerSeasonStats, oldest season first."
    )
    state: dict[str, Any] = Field(description="Feature state (features.state.PlayerState).")
    features: dict[str, float] = Field(description="The vector a request now, to `to_club`, would get.")
    features_for: dict[str, Any]


class Problem(BaseModel):
    detail: str


class Unconfirmed(Problem):
    """503 when Kafka did not confirm the published requests in time (they may still arrive)."""

    request_ids: list[str] = Field(
        description="The ids as published. Ask again with the same request_id: it is answered once."
    )


class ValidationProblem(BaseModel):
    detail: list[dict[str, Any]]
    fields: list[str] = Field(description="The bad fields, e.g. 'body.age'.")
    message: str


def location_of(request_id: str) -> str:
    return f"/v1/predictions/{request_id}"
