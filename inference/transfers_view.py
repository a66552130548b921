"""Club and market state, replicated in every worker by folding all of transfers.completed.

A request needs the state of two clubs that live on arbitrary partitions, so club state
can't be partition-local like player state. Faust's GlobalTable is the textbook answer, but
it is known to miss updates with several workers (faust-streaming/faust#283). The topic is
kept forever and small, so every worker reads all of it (no consumer group) through the
same pure update functions the retrainer uses; a restarted worker rebuilds it from Kafka.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from aiokafka import AIOKafkaConsumer, TopicPartition

from features.state import ClubState, MarketState
from features.update import update_club, update_market
from inference.state_sync import IngestProgress, Targets
from schemas.codec import decode
from schemas.exceptions import SchemaDecodeError
from schemas.records import TransferCompleted

log = logging.getLogger(__name__)


@dataclass
class TransfersView:
    topic: str
    # Built in the running loop (aiokafka binds to it): a group-less read_committed reader of
    # the topic, and a second client for end offsets only
    reader: Callable[[], AIOKafkaConsumer]
    offsets_reader: Callable[[], AIOKafkaConsumer]
    clubs: dict[str, ClubState] = field(default_factory=dict)
    market: MarketState | None = None
    applied: int = 0
    caught_up: asyncio.Event = field(default_factory=asyncio.Event)
    progress: IngestProgress = field(default_factory=lambda: IngestProgress("transfers view"))
    _consumer: AIOKafkaConsumer | None = None
    _offsets: AIOKafkaConsumer | None = None
    _partitions: list[TopicPartition] = field(default_factory=list)

    def apply(self, event: TransferCompleted) -> None:
        for club in {event.from_club, event.to_club}:
            self.clubs[club] = update_club(self.clubs.get(club), event, club)
        self.market = update_market(self.market, event)
        self.applied += 1

    async def run(self) -> None:
        consumer = self.reader()
        await consumer.start()
        try:
            partitions = [
                TopicPartition(self.topic, p) for p in sorted(consumer.partitions_for_topic(self.topic) or ())
            ]
            if not partitions:
                partitions = await self._wait_for_partitions(consumer)
            consumer.assign(partitions)
            await consumer.seek_to_beginning(*partitions)
            self._consumer, self._partitions = consumer, partitions
            end = await consumer.end_offsets(partitions)
            while True:
                batches = await consumer.getmany(timeout_ms=200, max_records=5000)
                for records in batches.values():
                    for record in records:
                        self._apply_bytes(record.value)
                for tp in partitions:
                    self.progress.seed(tp.topic, tp.partition, await consumer.position(tp))
                if not self.caught_up.is_set() and all(
                    await asyncio.gather(*(self._reached(consumer, tp, end[tp]) for tp in partitions))
                ):
                    log.info(
                        "transfers view caught up: %d transfers, %d clubs", self.applied, len(self.clubs)
                    )
                    self.caught_up.set()
        finally:
            await consumer.stop()
            if self._offsets is not None:
                await self._offsets.stop()

    @property
    def partitions(self) -> list[int]:
        """The topic's partitions, once the view has found them."""
        return [tp.partition for tp in self._partitions]

    async def end_targets(self, partitions: Iterable[int] | None = None) -> Targets:
        """End offsets now (of ``partitions``, default all): what a request taken now should see applied."""
        wanted = set(self.partitions if partitions is None else partitions)
        asked = [tp for tp in self._partitions if tp.partition in wanted]
        if self._consumer is None or not asked:
            return {}
        if self._offsets is None:
            # Its own connection: on the fetching consumer's, the request would queue behind a
            # long poll of the (mostly idle) topic and cost every batch up to half a second.
            self._offsets = self.offsets_reader()
            await self._offsets.start()
        ends = await self._offsets.end_offsets(asked)
        return {(tp.topic, tp.partition): offset for tp, offset in ends.items()}

    async def _reached(self, consumer: AIOKafkaConsumer, tp: TopicPartition, end: int) -> bool:
        return await consumer.position(tp) >= end

    async def _wait_for_partitions(self, consumer: AIOKafkaConsumer) -> list[TopicPartition]:
        while True:
            await consumer._client.force_metadata_update()  # noqa: SLF001 - no public refresh
            found = consumer.partitions_for_topic(self.topic)
            if found:
                return [TopicPartition(self.topic, p) for p in sorted(found)]
            await asyncio.sleep(0.5)

    def _apply_bytes(self, value: bytes | None) -> None:
        try:
            event = decode(value or b"", expected=TransferCompleted)
        except SchemaDecodeError:
            return  # the player-state agent dead-letters it; one dead letter per message
        try:
            self.apply(event)
        except Exception as exc:  # noqa: BLE001 - a poison transfer must not stop the view
            log.warning("transfer %s not applied to the club view: %r", event.transfer_id, exc)
