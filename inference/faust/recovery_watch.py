"""A table recovery that stopped receiving its changelog: find it and read the rest again.

When a rebalance stops Faust's flow while a fetch is being handed out, Faust drops the rest
of that fetch, but the consumer's position has already moved past it. During recovery that
can be the whole tail of a changelog partition: the position sits at the end, recovery waits
for records that will never come again and logs "No event received for active tp ... since
recovery start" forever; the worker never scores another request (seen about one run in
four of the two-worker test). The watch notices a changelog partition whose recovery made no
progress for ``stall_s`` while the position is past what was read, and names where to seek.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from typing import Generic, TypeVar

P = TypeVar("P", bound=Hashable)


@dataclass
class RecoveryWatch(Generic[P]):
    stall_s: float
    _unchanged: dict[P, tuple[int, float]] = field(default_factory=dict)  # last read, since when

    def stuck(
        self,
        read: Mapping[P, int],
        highwaters: Mapping[P, int],
        positions: Mapping[P, int | None],
        now: float,
    ) -> dict[P, int]:
        """Partitions to seek, with the offset to read next.

        ``read`` is the last offset recovery applied (-1: none), ``highwaters`` the last offset
        it waits for, ``positions`` the consumer's next fetch offset.
        """
        seek: dict[P, int] = {}
        for partition, highwater in highwaters.items():
            last = read.get(partition, -1)
            position = positions.get(partition)
            if last >= highwater or position is None or position <= last + 1:
                self._unchanged.pop(partition, None)  # done, or still fetching what comes next
                continue
            seen = self._unchanged.get(partition)
            if seen is None or seen[0] != last:
                self._unchanged[partition] = (last, now)
            elif now - seen[1] >= self.stall_s:
                seek[partition] = last + 1
                self._unchanged[partition] = (last, now)  # the re-read gets a full period
        return seek

    def reset(self) -> None:
        self._unchanged.clear()
