"""Requests fetched but never handed to the scoring agent: find them and read them again.

After some rebalances faust-streaming advances a partition's fetch position past requests it
never delivers to the agent (seen here on the two-worker test: positions at the end of the
partitions, results missing, no error anywhere). Nothing would ever answer those requests.
The guard compares, per request partition, the consumer's position with the offset after the
last request the agent handled; when the position stays ahead with no progress for
``stall_s``, the worker seeks back to that offset so the requests are read again.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field


@dataclass
class StallGuard:
    stall_s: float
    _next: dict[Hashable, int] = field(default_factory=dict)  # offset after the last one handled
    _waiting_since: dict[Hashable, float] = field(default_factory=dict)  # position ahead, no progress

    def handled(self, partition: Hashable, offset: int) -> None:
        """The agent took the message at ``offset``: progress on this partition."""
        if offset + 1 > self._next.get(partition, -1):
            self._next[partition] = offset + 1
            self._waiting_since.pop(partition, None)

    def busy(self) -> None:
        """The agent is working on a batch (it may wait for state): no partition is stalled now."""
        self._waiting_since.clear()

    def knows(self, partition: Hashable) -> bool:
        """Whether there is an offset to expect on this partition yet."""
        return partition in self._next

    def assigned(self, committed: Mapping[Hashable, int | None]) -> None:
        """The partitions this worker now owns, with their committed offsets (None: unknown)."""
        for partition in set(self._next) - set(committed):
            self._next.pop(partition, None)
            self._waiting_since.pop(partition, None)
        for partition, offset in committed.items():
            if offset is not None and partition not in self._next:
                self._next[partition] = offset

    def stalled(self, positions: Mapping[Hashable, int | None], now: float) -> dict[Hashable, int]:
        """Partitions whose position has been ahead of what was handled for ``stall_s``: where to seek."""
        seek: dict[Hashable, int] = {}
        for partition, position in positions.items():
            expected = self._next.get(partition)
            if expected is None or position is None or position <= expected:
                self._waiting_since.pop(partition, None)
                continue
            since = self._waiting_since.setdefault(partition, now)
            if now - since >= self.stall_s:
                seek[partition] = expected
                self._waiting_since[partition] = now  # give the re-read a full period
        return seek
