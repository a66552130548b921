"""Ingested records: what happened to players and transfers (the training data)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from schemas.envelope import Event
from schemas.fields import Age, FeeEurM, NonEmptyStr, Season, UtcDatetime, Window
from schemas.positions import Position


class PlayerRecord(Event):
    """A player's attributes as of a point in time; the newest per player wins."""

    event_type: Literal["PlayerRecord"] = "PlayerRecord"
    schema_version: Literal[1] = 1
    player_id: NonEmptyStr = Field(description="Stable player id; the topic key.")
    name: NonEmptyStr
    age: Age | None = None
    position: Position
    club: NonEmptyStr = Field(description="Current club.")
    league: NonEmptyStr | None = None
    nationality: NonEmptyStr | None = None
    as_of: UtcDatetime = Field(description="When this record was true (event time).")


class TransferCompleted(Event):
    """A completed transfer with its real fee: the label stream."""

    event_type: Literal["TransferCompleted"] = "TransferCompleted"
    schema_version: Literal[1] = 1
    transfer_id: NonEmptyStr = Field(description="Stable transfer id, shared with replays.")
    player_id: NonEmptyStr
    player_name: NonEmptyStr
    age: Age | None = None
    position: Position
    from_club: NonEmptyStr
    to_club: NonEmptyStr
    from_league: NonEmptyStr | None = None
    to_league: NonEmptyStr | None = None
    season: Season
    window: Window
    transferred_at: UtcDatetime = Field(description="When the transfer happened (event time).")
    fee_eur_m: FeeEurM
