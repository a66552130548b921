"""Player feature state: the Faust table (JSON, changelogged), its decoded cache and progress."""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

from features.state import PlayerState
from features.update import update_player
from inference.dead_letters import ConsumedMessage, DeadLetters
from inference.player_cache import DecodedPlayers
from inference.state_sync import IngestProgress
from schemas.codec import decode
from schemas.exceptions import SchemaDecodeError
from schemas.records import PlayerRecord, TransferCompleted
from schemas.season_stats import PlayerSeasonStats


class PlayerStates:
    """Applies ingested records and transfers to the table; serves decoded states to scoring."""

    def __init__(self, table: MutableMapping[str, Any], dead_letters: DeadLetters) -> None:
        self._table = table
        self._decoded = DecodedPlayers()
        self._dead_letters = dead_letters
        self.progress = IngestProgress("player-state agent")

    def get(self, player_id: str) -> PlayerState | None:
        return self._decoded.get(player_id, self._table.get(player_id))

    async def apply(self, message: ConsumedMessage) -> None:
        """Apply one ingested message (or dead-letter it), then mark it applied."""
        await self._apply(message)
        self.progress.mark(message.topic, message.partition, message.offset)

    async def _apply(self, message: ConsumedMessage) -> None:
        try:
            record = decode(message.value)
        except SchemaDecodeError as exc:
            await self._dead_letters.send(message, exc.reason, "SchemaDecodeError")
            return
        if not isinstance(record, PlayerRecord | TransferCompleted | PlayerSeasonStats):
            await self._dead_letters.send(
                message, f"unexpected {record.event_type} on this topic", "TopicMismatch"
            )
            return
        try:
            state = update_player(self.get(record.player_id), record)
        except Exception as exc:  # noqa: BLE001 - a poison message must not stop the agent
            await self._dead_letters.send(message, f"player state update failed: {exc!r}", type(exc).__name__)
            return
        stored = state.to_dict()
        self._table[record.player_id] = stored
        self._decoded.put(record.player_id, stored, state)

    def forget(self) -> None:
        """Drop the decoded cache (partitions handed over); the table itself decides what stays."""
        self._decoded.forget()
