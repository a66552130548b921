"""The read-your-writes barrier: a batch waits (bounded) for the state published before it.

Player records and transfers on the partitions co-assigned with the batch's request
partitions come from this worker's own Faust consumer: their targets are the high-water
marks of its fetches (the fetch that brought the requests saw at least what was published
before them). The transfers view reads all of transfers.completed; only its partitions this
worker's group consumer does not own cost a round trip to the broker per batch.

A player partition this worker owns that stalls is waited for through the stall (read again
when the consumer is past what was applied): its state is nowhere else, so a request scored
without it keeps a stale vector (seen once in two runs of the two-worker e2e test under load).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence

from faust.types import TP

from inference.faust.consumer_calls import GroupConsumer, committed_offset, seek_on_consumer_thread
from inference.state_sync import IngestProgress, Targets
from inference.transfers_view import TransfersView

log = logging.getLogger(__name__)


class ReadYourWrites:
    def __init__(
        self,
        consumer: Callable[[], GroupConsumer],
        players: IngestProgress,
        view: TransfersView,
        ingest_topics: Sequence[str],
        transfers_topic: str,
        wait_s: float,
        rebalancing: Callable[[], bool] = lambda: False,
    ) -> None:
        self._consumer = consumer  # Faust builds its consumer once the app starts
        self._rebalancing = rebalancing
        self._players = players
        self._view = view
        self._ingest_topics = tuple(ingest_topics)
        self._transfers_topic = transfers_topic
        self._wait_s = wait_s

    async def wait(self, partitions: set[int]) -> None:
        """Wait until player state and the transfers view hold what these partitions' requests saw."""
        view_targets = await self._view_targets()
        await asyncio.gather(
            self._players.wait_for(
                lambda: self._player_targets(partitions), self._wait_s, self._player_stall
            ),
            self._view.progress.wait_for(lambda: view_targets, self._wait_s),
        )

    async def _player_stall(self, behind: dict[tuple[str, int], int]) -> bool:
        """A period without progress on ingest partitions this worker owns: keep waiting.

        Their player state is this worker's alone: a request scored now would get a stale
        vector for good (nothing else fixes it). A partition fetched past what was applied
        (the rest of a fetch dropped) is read again from there. During a rebalance the wait
        ends (Faust waits for the batch before it hands partitions over).
        """
        if self._rebalancing():
            return False
        consumer = self._consumer()
        for (topic, partition), left in behind.items():
            tp = TP(topic, partition)
            applied = self._players.applied(topic, partition)
            if applied is None:
                applied = committed_offset(consumer, tp)
            position = await consumer.position(tp)
            log.warning(
                "player state %s[%d] %d behind: applied up to %s, consumer at %s; waiting",
                topic,
                partition,
                left,
                applied,
                position,
            )
            if applied is not None and position is not None and position > applied:
                await seek_on_consumer_thread(consumer, tp, applied)
        return True

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
