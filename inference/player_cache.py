"""Decoded player states next to the Faust table that holds them as JSON-able dicts.

The table keeps dicts (its changelog is JSON), so every lookup used to rebuild a PlayerState
from one: ~18 us a request. This keeps the PlayerState built for each stored dict and hands
it out while the table still holds that very dict; a new value (an update, or a recovery
from the changelog) is a new dict, so a stale state is never served.
"""

from __future__ import annotations

from typing import Any

from features.state import PlayerState


class DecodedPlayers:
    def __init__(self) -> None:
        # player id -> (the dict the table holds, its PlayerState); holding the dict keeps its
        # identity from being reused by a later one
        self._decoded: dict[str, tuple[dict[str, Any], PlayerState]] = {}

    def get(self, player_id: str, stored: dict[str, Any] | None) -> PlayerState | None:
        """The PlayerState of the table's current value ``stored`` (None: no state yet)."""
        if stored is None:
            self._decoded.pop(player_id, None)
            return None
        cached = self._decoded.get(player_id)
        if cached is not None and cached[0] is stored:
            return cached[1]
        state = PlayerState.from_dict(stored)
        self._decoded[player_id] = (stored, state)
        return state

    def put(self, player_id: str, stored: dict[str, Any], state: PlayerState) -> None:
        """Remember ``state`` as the decoding of the dict just written to the table."""
        self._decoded[player_id] = (stored, state)

    def forget(self) -> None:
        """Drop every entry (partitions handed to another worker); rebuilt on the next lookups."""
        self._decoded.clear()

    def __len__(self) -> int:
        return len(self._decoded)
