"""What the worker asks of Faust's group consumer, private parts included, behind one Protocol.

Faust's public commit only takes offsets it saw acknowledged, and its seek runs in the
caller's thread; the worker keeps request offsets itself, so it needs the committed offset
Faust read on assignment, a commit of exactly the offsets it names, and a seek that runs on
the consumer's own thread.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from faust.types import TP


class GroupConsumer(Protocol):
    """The part of Faust's consumer the worker uses (fakes implement it in unit tests)."""

    def assignment(self) -> set[TP]: ...

    def highwater(self, tp: TP) -> int | None: ...

    async def position(self, tp: TP) -> int | None: ...

    async def seek_wait(self, partitions: Mapping[TP, int]) -> None: ...


def committed_offset(consumer: Any, tp: TP) -> int | None:
    """The group's offset Faust read when it last sought this partition (None: none yet)."""
    offset = consumer._committed_offset.get(tp)
    return None if offset is None else int(offset)


async def commit_offsets(consumer: Any, offsets: Mapping[TP, int]) -> bool:
    """Commit exactly these offsets (Faust's public commit only takes offsets it saw acked)."""
    return bool(await consumer._commit_offsets(offsets))


async def seek_on_consumer_thread(consumer: GroupConsumer, tp: TP, offset: int) -> None:
    """Seek one partition from the event loop without racing Faust's consumer thread.

    Faust's ``Consumer.seek`` calls aiokafka's seek in the caller's thread; ``seek_wait``
    runs it on the consumer thread.
    """
    await consumer.seek_wait({tp: offset})
