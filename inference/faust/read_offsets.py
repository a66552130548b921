"""Faust's read-offset filter, switched off for the topics whose repeats the worker handles."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from faust.transport import consumer as faust_consumer
from faust.types import TP


class _ReadOffsetsExcept(defaultdict[TP, int | None]):
    """Faust's last-read offset per partition, never set for the given topics."""

    def __init__(self, topics: set[str]) -> None:
        super().__init__(lambda: None)
        self.topics = topics

    def __getitem__(self, tp: TP) -> int | None:
        return None if tp.topic in self.topics else super().__getitem__(tp)

    def __setitem__(self, tp: TP, offset: int | None) -> None:
        if tp.topic not in self.topics:
            super().__setitem__(tp, offset)

    def update(self, *others: Any, **more: Any) -> None:  # type: ignore[override]
        for tp, offset in dict(*others, **more).items():
            self[tp] = offset


def no_read_offset_filter(topics: Iterable[str]) -> None:
    """Let every Faust consumer built after this call deliver all records of ``topics``."""
    consumer_class: Any = faust_consumer.Consumer  # patched: typed as Any
    unfiltered: set[str] | None = getattr(consumer_class, "_mlops_fc_unfiltered", None)
    if unfiltered is not None:
        unfiltered.update(topics)
        return
    unfiltered = set(topics)
    original = consumer_class.__init__

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        self._read_offset = _ReadOffsetsExcept(unfiltered)

    consumer_class._mlops_fc_unfiltered = unfiltered
    consumer_class.__init__ = init
