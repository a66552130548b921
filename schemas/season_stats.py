"""A player's record for one season at one club: what he did, known once the season ended."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal, Self

from pydantic import Field, model_validator

from schemas.envelope import Event
from schemas.fields import NonEmptyStr, Season, UtcDatetime

Count = Annotated[int, Field(ge=0, le=100_000)]
Amount = Annotated[float, Field(ge=0, le=10_000)]  # expected goals and friends: non-negative
StatsPosition = Literal["Goalkeeper", "Defender", "Midfielder", "Forward"]
SEASON_END_MONTH = 6  # the big leagues end in May: a season is complete from 1 June


def season_end(season: int) -> datetime:
    """When a season's totals become known: 1 June of its second year, UTC."""
    return datetime(season + 1, SEASON_END_MONTH, 1, tzinfo=UTC)


class _PlayerSeasonStatsFields(Event):
    """Fields shared by every version of PlayerSeasonStats."""

    event_type: Literal["PlayerSeasonStats"] = "PlayerSeasonStats"
    player_id: NonEmptyStr = Field(description="The transfer ingester's player id; the topic key.")
    player_name: NonEmptyStr = Field(description="The name as the stats source spells it.")
    season: Season
    league: NonEmptyStr
    team: NonEmptyStr = Field(description="The team as the stats source names it.")
    position: StatsPosition | None = Field(default=None, description="None when the source does not say.")
    games: Count
    minutes: Count
    goals: Count
    assists: Count
    npg: Count = Field(description="Non-penalty goals.")
    xg: Amount = Field(description="Expected goals.")
    xa: Amount = Field(description="Expected assists.")
    npxg: Amount = Field(description="Non-penalty expected goals.")
    shots: Count
    key_passes: Count
    xg_chain: Amount = Field(description="xG of every possession the player took part in.")
    xg_buildup: Amount = Field(description="xGChain without the key passes and shots.")
    yellow_cards: Count
    red_cards: Count
    known_at: UtcDatetime = Field(description="When the totals became known: the end of the season.")

    @model_validator(mode="after")
    def _known_after_season(self) -> Self:
        # A record dated inside its own season would leak a season's totals into it.
        if self.known_at < season_end(self.season):
            raise ValueError(f"known_at {self.known_at.isoformat()} is before season {self.season} ended")
        return self


class PlayerSeasonStatsV1(_PlayerSeasonStatsFields):
    """One player's totals for one season at one team (version 1, parse only)."""

    schema_version: Literal[1] = 1

    def upgrade(self) -> PlayerSeasonStats:
        """Version 2 adds only optional fields: they stay unset."""
        return PlayerSeasonStats.model_validate({**dict(self), "schema_version": 2})


class PlayerSeasonStats(_PlayerSeasonStatsFields):
    """One player's totals for one season at one team (a mid-season move gives two rows),
    with his team's totals that season: how strong the team was, and his share of it."""

    schema_version: Literal[2] = 2
    team_xg: Amount | None = Field(
        default=None, description="The team's xG that season: the sum over the source's rows of that team."
    )
    team_xa: Amount | None = Field(default=None, description="The team's xA that season, summed likewise.")
    team_goals: Count | None = Field(
        default=None, description="The team's goals that season, summed likewise."
    )
