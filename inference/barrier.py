"""The read-your-writes barrier: a batch waits (bounded) for the state published before it.

Player records and transfers on the partitions co-assigned with the batch's request
partitions come from this worker's own Faust consumer: their targets are the high-water
marks of its fetches (the fetch that brought the requests saw at least what was published
before them). The transfers view reads all of transfers.completed; only its partitions this
worker's group consumer does not own cost a round trip to the broker per batch.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

from faust.types import TP

from inference.faust.consumer_calls import GroupConsumer, committed_offset
from inference.state_sync import IngestProgress, Targets
from inference.transfers_view import TransfersView


class ReadYourWrites:
    def __init__(
        self,
        consumer: Callable[[], GroupConsumer],
        players: IngestProgress,
        view: TransfersView,
        ingest_topics: Sequence[str],
        transfers_topic: str,
        wait_s: float,
    ) -> None:
        self._consumer = consumer  # Faust builds its consumer once the app starts
        self._players = players
        self._view = view
        self._ingest_topics = tuple(ingest_topics)
        self._transfers_topic = transfers_topic
        self._wait_s = wait_s

    async def wait(self, partitions: set[int]) -> None:
        """Wait until player state and the transfers view hold what these partitions' requests saw."""
        view_targets = await self._view_targets()
        await asyncio.gather(
            self._players.wait_for(lambda: self._player_targets(partitions), self._wait_s),
            self._view.progress.wait_for(lambda: view_targets, self._wait_s),
        )

    def _player_targets(self, partitions: set[int]) -> Targets:
        """High-water marks of the ingest partitions co-assigned with these request partitions."""
        consumer = self._consumer()
        assigned = consumer.assignment()
        targets: dict[tuple[str, int], int] = {}
        for topic in self._ingest_topics:
            for partition in partitions:
                tp = TP(topic, partition)
                if tp not in assigned:
                    continue  # not (yet) assigned here: nothing to wait for
                highwater = consumer.highwater(tp)
                if highwater is not None:
                    targets[(topic, partition)] = highwater
                # Faust keeps the committed offset (next to read): all before it is in the table.
                self._players.seed(topic, partition, committed_offset(consumer, tp))
        return targets

    async def _view_targets(self) -> Targets:
        """End offsets of transfers.completed that the club/market view must reach."""
        consumer = self._consumer()
        assigned = consumer.assignment()
        targets: dict[tuple[str, int], int] = {}
        ask = []
        for partition in self._view.partitions:
            tp = TP(self._transfers_topic, partition)
            highwater = consumer.highwater(tp) if tp in assigned else None
            if highwater is None:
                ask.append(partition)
            else:
                targets[(self._transfers_topic, partition)] = highwater
        if ask:
            targets.update(await self._view.end_targets(ask))
        return targets
