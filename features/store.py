"""An in-memory feature store: the replay's state, and the unit tests' fake of Faust tables."""

from __future__ import annotations

from dataclasses import dataclass, field

from features.state import ClubState, MarketState, PlayerState
from features.update import PlayerEvent, update_club, update_market, update_player
from features.vector import vector
from schemas.predictions import PredictionRequest
from schemas.records import TransferCompleted


@dataclass
class InMemoryFeatureStore:
    """Player, club and market state in dicts, changed only by the pure update functions."""

    players: dict[str, PlayerState] = field(default_factory=dict)
    clubs: dict[str, ClubState] = field(default_factory=dict)
    market: MarketState | None = None

    def apply(self, event: PlayerEvent) -> None:
        """Fold one event in: a transfer updates the player, both clubs and the market."""
        self.players[event.player_id] = update_player(self.players.get(event.player_id), event)
        if isinstance(event, TransferCompleted):
            for club in dict.fromkeys((event.from_club, event.to_club)):  # once if both are one club
                self.clubs[club] = update_club(self.clubs.get(club), event, club)
            self.market = update_market(self.market, event)

    def vector_for(self, request: PredictionRequest) -> dict[str, float]:
        """The request's feature vector from the current state (point in time inside)."""
        return vector(
            request,
            self.players.get(request.player_id),
            self.clubs.get(request.from_club),
            self.clubs.get(request.to_club),
            self.market,
        )
