"""Where the worker's consumer group resumes request partitions it has not sought yet."""

from __future__ import annotations

import asyncio
import logging

from confluent_kafka import ConsumerGroupTopicPartitions, TopicPartition
from confluent_kafka.admin import AdminClient, OffsetSpec
from faust.types import TP

log = logging.getLogger(__name__)
ADMIN_TIMEOUT_S = 10.0


class GroupOffsets:
    def __init__(self, admin: AdminClient, group: str) -> None:
        self._admin = admin
        self._group = group

    async def start_offsets(self, partitions: list[TP]) -> dict[TP, int]:
        """The group's committed offset of each partition, else the log start ({} on failure)."""
        try:
            return await asyncio.to_thread(self._read, partitions)
        except Exception:  # noqa: BLE001 - no expectation this round: the guard asks again next time
            log.info("could not read the group's offsets for %d partitions", len(partitions), exc_info=True)
            return {}

    def _read(self, partitions: list[TP]) -> dict[TP, int]:
        wanted = [TopicPartition(tp.topic, tp.partition) for tp in partitions]
        listed = self._admin.list_consumer_group_offsets([ConsumerGroupTopicPartitions(self._group, wanted)])
        answer = listed[self._group].result(ADMIN_TIMEOUT_S)
        offsets = {TP(tp.topic, tp.partition): tp.offset for tp in answer.topic_partitions}
        never = [TopicPartition(tp.topic, tp.partition) for tp, offset in offsets.items() if offset < 0]
        if never:  # the group starts these at the earliest offset (auto_offset_reset)
            earliest = self._admin.list_offsets({tp: OffsetSpec.earliest() for tp in never})
            for tp, future in earliest.items():
                offsets[TP(tp.topic, tp.partition)] = future.result(ADMIN_TIMEOUT_S).offset
        return offsets
