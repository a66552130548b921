"""Which requests have a confirmed result, per partition: what the worker commits and re-reads.

Faust's own offset bookkeeping loses requests here without a word: it counts offsets it never
received as acknowledged (its "gap" logic), so a commit can pass requests that were never
scored, and it drops re-fetched records it believes it has read after a seek races a fetch.
Both were seen after a killed worker restarted: 40-300 requests per partition never answered.

So the worker keeps the request topic's offsets itself (Faust's acks are off for it). Per
partition the ledger holds the *frontier*, the first offset whose result the broker has not
confirmed, and the offsets confirmed beyond it. Only the frontier is committed. When the
frontier stops moving while the consumer has read past it (a skipped stretch, or records
fetched and never delivered), the worker seeks back to it; repeats are answered from the
ledger without scoring again.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Generic, TypeVar

P = TypeVar("P", bound=Hashable)  # a partition: Faust's TP in the worker


@dataclass
class _Partition:
    frontier: int  # first offset without a confirmed result
    ahead: set[int] = field(default_factory=set)  # confirmed offsets past the frontier
    committed: int = -1  # last frontier committed
    stuck_since: float | None = None  # read past the frontier with no progress, since when
    sought: tuple[int, float] | None = None  # (frontier, when) of the last seek back


@dataclass
class DeliveredOffsets(Generic[P]):
    stall_s: float
    _partitions: dict[P, _Partition] = field(default_factory=dict)

    def start(self, partition: P, committed: int | None, first_offset: int) -> None:
        """Begin tracking a newly assigned partition at the group's committed offset.

        Without a committed offset (a new group) the first offset delivered is the start.
        """
        if partition not in self._partitions:
            start = committed if committed is not None and committed >= 0 else first_offset
            self._partitions[partition] = _Partition(frontier=start, committed=start)

    def tracks(self, partition: P) -> bool:
        return partition in self._partitions

    def answered(self, partition: P, offset: int) -> bool:
        """Whether this request already has a confirmed result (a re-read after a seek)."""
        state = self._partitions.get(partition)
        return state is not None and (offset < state.frontier or offset in state.ahead)

    def confirm(self, partition: P, offsets: Iterable[int]) -> None:
        """The broker confirmed the results (or dead letters) for these offsets."""
        state = self._partitions.get(partition)
        if state is None:
            return  # revoked while the batch was out: the next owner reads it again
        before = state.frontier
        state.ahead.update(o for o in offsets if o >= state.frontier)
        while state.frontier in state.ahead:
            state.ahead.remove(state.frontier)
            state.frontier += 1
        if state.frontier != before:
            state.stuck_since = None

    def frontier(self, partition: P) -> int | None:
        state = self._partitions.get(partition)
        return None if state is None else state.frontier

    def to_commit(self) -> dict[P, int]:
        """Frontiers that moved since their last commit."""
        return {p: s.frontier for p, s in self._partitions.items() if s.frontier > s.committed}

    def committed(self, offsets: Mapping[P, int]) -> None:
        for partition, offset in offsets.items():
            if (state := self._partitions.get(partition)) is not None:
                state.committed = max(state.committed, offset)

    def revoked(self, partitions: Iterable[P]) -> None:
        for partition in partitions:
            self._partitions.pop(partition, None)

    def owned(self) -> list[P]:
        return list(self._partitions)

    def skipped(self, now: float) -> dict[P, int]:
        """Partitions with confirmed offsets past a hole: requests were skipped, seek to the frontier.

        Batches are scored one after another, so once a batch is confirmed everything delivered
        before it is too: a hole is a stretch the agent never received. One seek per hole and
        period, as records already fetched may overtake the re-read once more.
        """
        return {
            partition: self._sought(state, now)
            for partition, state in self._partitions.items()
            if state.ahead and self._may_seek(state, now)
        }

    def stalled(self, positions: Mapping[P, int | None], now: float) -> dict[P, int]:
        """Partitions read past their frontier with no progress for ``stall_s``: seek to the frontier.

        ``positions`` are the consumer's fetch positions: records fetched but never delivered
        leave the position ahead while nothing arrives. Call ``busy`` while a batch is in hand.
        """
        seek: dict[P, int] = {}
        for partition, position in positions.items():
            state = self._partitions.get(partition)
            if state is None or position is None or position <= state.frontier:
                if state is not None:
                    state.stuck_since = None
                continue
            if state.stuck_since is None:
                state.stuck_since = now
            elif now - state.stuck_since >= self.stall_s and self._may_seek(state, now):
                seek[partition] = self._sought(state, now)
        return seek

    def _may_seek(self, state: _Partition, now: float) -> bool:
        if state.sought is None or state.sought[0] != state.frontier:
            return True
        return now - state.sought[1] >= self.stall_s

    @staticmethod
    def _sought(state: _Partition, now: float) -> int:
        state.sought = (state.frontier, now)
        state.stuck_since = None
        return state.frontier

    def busy(self) -> None:
        """A batch is in hand: whatever is ahead of a frontier may be in it."""
        for state in self._partitions.values():
            state.stuck_since = None
