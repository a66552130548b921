"""Model following: swap to the current model (and the one in shadow) on start, on every
lifecycle event and on a timer."""

from __future__ import annotations

import logging
from collections.abc import Callable

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from inference.model_holder import ModelHolder
from inference.shadow_model import ShadowHolder
from schemas.codec import decode
from schemas.exceptions import SchemaDecodeError
from schemas.lifecycle import ModelPromoted, ModelRolledBack
from stack.heap import freeze_long_lived

log = logging.getLogger(__name__)


class ModelFollower:
    def __init__(
        self,
        holder: ModelHolder,
        consumer: Callable[[], AIOKafkaConsumer],
        topic: str,
        shadow: ShadowHolder | None = None,
    ) -> None:
        self._holder = holder
        self._shadow = shadow
        self._consumer = consumer  # built in the running loop (aiokafka binds to it)
        self._topic = topic

    async def refresh(self) -> None:
        # On start the shadow first: requests wait for the champion, so the first batch is
        # already scored by both. Afterwards the champion first: on a promotion the old
        # champion moves to the shadow slot, so a batch in between scores the new champion
        # with no shadow rather than none at all.
        starting = self._holder.current is None
        swapped = starting and self._shadow is not None and await self._shadow.refresh()
        swapped = await self._holder.refresh() or swapped
        if not starting and self._shadow is not None and await self._shadow.refresh():
            swapped = True
        if swapped:
            freeze_long_lived()  # the new model's objects join the long-lived heap

    async def follow(self) -> None:
        """Every worker reads every lifecycle event (no group) and swaps on it at once."""
        consumer = self._consumer()
        await consumer.start()
        try:
            found = consumer.partitions_for_topic(self._topic) or {0}
            partitions = [TopicPartition(self._topic, p) for p in sorted(found)]
            consumer.assign(partitions)
            await consumer.seek_to_end(*partitions)
            while True:
                batches = await consumer.getmany(timeout_ms=1000)
                records = [record for batch in batches.values() for record in batch]
                if records:
                    self._reconsider_on_new_serving(records)
                    await self.refresh()
        finally:
            await consumer.stop()

    def _reconsider_on_new_serving(self, records: list[ConsumerRecord[bytes, bytes]]) -> None:
        """A promotion or rollback of this model lets blobs refused before be tried again."""
        for record in records:
            try:
                event = decode(record.value, record.headers)
            except SchemaDecodeError:
                continue  # not ours to dead-letter: the lifecycle topic has its own readers
            if (
                isinstance(event, ModelPromoted | ModelRolledBack)
                and event.model_name == self._holder.model_name
            ):
                target = event.version if isinstance(event, ModelPromoted) else event.to_version
                self._holder.reconsider(f"{event.event_type} to version {target}")
