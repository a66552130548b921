"""The timer body that finds a stuck table recovery (RecoveryWatch) and reads its changelog again."""

from __future__ import annotations

import logging
import time
from typing import Any

from faust.types import TP

from inference.faust.consumer_calls import GroupConsumer, seek_on_consumer_thread
from inference.faust.recovery_watch import RecoveryWatch

log = logging.getLogger(__name__)


class StuckRecovery:
    """Resumes a changelog recovery that stopped receiving records (see recovery_watch)."""

    def __init__(self, tables: Any, consumer: Any, stall_s: float) -> None:
        # ``tables`` is Faust's TableManager (``recovery`` is not on TableManagerT); ``consumer``
        # a callable returning the group consumer, which Faust builds once the app starts.
        self._tables = tables
        self._consumer = consumer
        self._watch: RecoveryWatch[TP] = RecoveryWatch(stall_s)

    async def check(self) -> None:
        recovery = self._tables.recovery
        if not recovery.in_recovery:
            self._watch.reset()
            return
        consumer: GroupConsumer = self._consumer()
        read = {tp: offset for tp, offset in recovery.active_offsets.items() if offset is not None}
        highwaters = {tp: hw for tp, hw in recovery.active_highwaters.items() if hw is not None}
        behind = [tp for tp, hw in highwaters.items() if read.get(tp, -1) < hw]
        positions = {tp: await consumer.position(tp) for tp in behind}
        for tp, offset in self._watch.stuck(read, highwaters, positions, time.monotonic()).items():
            log.warning(
                "table recovery of %s[%d] stopped at %d of %d with the consumer at %s: reading it again",
                tp.topic,
                tp.partition,
                offset - 1,
                highwaters[tp],
                positions[tp],
            )
            await seek_on_consumer_thread(consumer, tp, offset)
