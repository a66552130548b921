"""Request offsets: the ledger of answered requests, its commits, re-reads and rebalance handling.

Faust's acks are off for the request topic (see delivered_offsets): the worker commits each
request partition itself, only up to its first request without a confirmed result, and
seeks back when a stretch was skipped or fetched and never delivered.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Mapping

from faust.types import TP

from inference.dead_letters import ConsumedMessage
from inference.delivered_offsets import DeliveredOffsets
from inference.faust.consumer_calls import (
    GroupConsumer,
    commit_offsets,
    committed_offset,
    seek_on_consumer_thread,
)
from inference.group_offsets import GroupOffsets
from inference.metrics import WorkerMetrics

log = logging.getLogger(__name__)


class RequestOffsets:
    def __init__(
        self,
        consumer: Callable[[], GroupConsumer],
        group: GroupOffsets,
        topic: str,
        stall_s: float,
        metrics: WorkerMetrics,
    ) -> None:
        self._consumer = consumer  # Faust builds its consumer once the app starts
        self._group = group
        self.topic = topic
        self._metrics = metrics
        self.ledger: DeliveredOffsets[TP] = DeliveredOffsets(stall_s)

    async def already_answered(self, message: ConsumedMessage) -> bool:
        """Whether a request (read again after a seek) already has a confirmed result."""
        tp = TP(message.topic, message.partition)
        if not self.ledger.tracks(tp):
            await self.track([tp], message.offset)
        return self.ledger.answered(tp, message.offset)

    async def track(self, partitions: list[TP], first_offset: int | None = None) -> None:
        """Start the ledger of newly assigned request partitions at the group's committed offsets."""
        consumer = self._consumer()
        starts = {tp: committed_offset(consumer, tp) for tp in partitions}
        unknown = [tp for tp, offset in starts.items() if offset is None]
        if unknown:  # never committed here: the group's offset, else the log start
            starts.update(await self._group.start_offsets(unknown))
        for tp, start in starts.items():
            first = first_offset if first_offset is not None else start
            if first is not None:
                self.ledger.start(tp, start, first)

    async def confirmed(self, offsets: Mapping[TP, list[int]]) -> None:
        """A batch's results are confirmed: record its offsets, read skipped stretches again."""
        for tp, batch_offsets in offsets.items():
            self.ledger.confirm(tp, batch_offsets)
        for tp, offset in self.ledger.skipped(time.monotonic()).items():
            self._metrics.rereads.inc()
            log.warning(
                "requests %s[%d] from %d were never delivered to the agent: reading them again", *tp, offset
            )
            await seek_on_consumer_thread(self._consumer(), tp, offset)

    async def reread_stalled(self, busy: bool) -> None:
        """Seek back partitions read past their frontier with no progress (``busy``: a batch in hand)."""
        if busy:
            self.ledger.busy()
            return
        consumer = self._consumer()
        owned = [tp for tp in consumer.assignment() if tp.topic == self.topic]
        await self.track([tp for tp in owned if not self.ledger.tracks(tp)])
        positions = {tp: await consumer.position(tp) for tp in owned}
        for tp, offset in self.ledger.stalled(positions, time.monotonic()).items():
            self._metrics.rereads.inc()
            log.warning(
                "requests %s[%d] fetched up to %s but answered only up to %d: reading them again",
                tp.topic,
                tp.partition,
                positions[tp],
                offset,
            )
            await seek_on_consumer_thread(consumer, tp, offset)

    async def commit(self, only: set[TP] | None = None) -> None:
        """Commit each request partition up to its first request without a confirmed result."""
        consumer = self._consumer()
        assignment = consumer.assignment()
        offsets = {
            tp: offset
            for tp, offset in self.ledger.to_commit().items()
            if tp in assignment and (only is None or tp in only)
        }
        if offsets and await commit_offsets(consumer, offsets):
            self.ledger.committed(offsets)

    async def hand_over(self, revoked: set[TP], drain: Callable[[], Awaitable[None]]) -> None:
        """Partitions revoked: let batches in flight confirm, commit them, forget them."""
        mine = {tp for tp in revoked if tp.topic == self.topic}
        await drain()
        try:
            await self.commit(mine)
        except Exception:  # noqa: BLE001 - the next owner then repeats a few answers
            log.warning("commit of %d request partitions before revocation failed", len(mine), exc_info=True)
        self.ledger.revoked(mine)

    def restart(self) -> None:
        """Partitions assigned: Faust seeks every partition back to its committed offset."""
        self.ledger.revoked(self.ledger.owned())

    async def stop(self, drain: Callable[[], Awaitable[None]]) -> None:
        """Shutting down: let batches in flight confirm and commit what they answered."""
        await drain()
        try:
            await self.commit()
        except Exception:  # noqa: BLE001 - a restart then repeats a few answers
            log.warning("final commit of request offsets failed", exc_info=True)

    def frontier(self, tp: TP) -> int | None:
        return self.ledger.frontier(tp)
