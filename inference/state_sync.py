"""Read-your-writes for feature state: a request waits until the state it should see is applied.

Records, transfers and requests arrive on different topics and Faust runs one agent per
stream, so a request could be scored before the transfers published just before it reach
the feature state: a stale vector, and an online error that blames the model. Before a
batch is scored, the worker waits (bounded) until every ingest partition it depends on has
been applied up to the broker's high-water mark as the worker last saw it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping

log = logging.getLogger(__name__)

# (topic, partition) -> next offset to apply, i.e. last applied offset + 1
Targets = Mapping[tuple[str, int], int]
# Called when a wait made no progress for a stall period, with the partitions still behind:
# True to wait another period (it may have sought them back), False to give up now.
OnStall = Callable[[dict[tuple[str, int], int]], Awaitable[bool]]
STALL_FACTOR = 30  # overall cap on one wait, in stall periods


class IngestProgress:
    """Offsets applied by an ingest loop, and a way to wait for them to reach a target."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._next: dict[tuple[str, int], int] = {}
        self._advanced = asyncio.Event()
        # Partitions that stalled at a target: not waited for again until the target moves, so
        # a partition this worker never receives (seen after rebalances) costs one stall, not
        # one per batch. Its state then comes from the table's changelog restore.
        self._given_up: dict[tuple[str, int], int] = {}

    def mark(self, topic: str, partition: int, offset: int) -> None:
        """Record that the message at ``offset`` has been applied to the state."""
        key = (topic, partition)
        if offset + 1 > self._next.get(key, 0):
            self._next[key] = offset + 1
        self._advanced.set()

    def applied(self, topic: str, partition: int) -> int | None:
        """The next offset to apply on this partition (None: nothing applied or seeded yet)."""
        return self._next.get((topic, partition))

    def seed(self, topic: str, partition: int, next_offset: int | None) -> None:
        """Everything before ``next_offset`` is already in the state (e.g. restored from a changelog)."""
        if next_offset is not None and next_offset > self._next.get((topic, partition), 0):
            self._next[(topic, partition)] = next_offset
            self._advanced.set()

    def lagging(self, targets: Targets) -> dict[tuple[str, int], int]:
        """The partitions not yet applied up to their target, with how many messages remain."""
        return {
            key: target - self._next.get(key, 0)
            for key, target in targets.items()
            if target is not None and self._next.get(key, 0) < target and self._given_up.get(key) != target
        }

    async def wait_for(
        self, targets: Callable[[], Targets], limit_s: float, on_stall: OnStall | None = None
    ) -> bool:
        """Wait until applied >= targets (re-read each time); False when it stalls.

        ``limit_s`` bounds the wait without progress: a worker catching up on a long backlog
        keeps waiting while it applies messages (up to STALL_FACTOR times ``limit_s`` in
        all), a stuck one gives up and scores with what it has. ``on_stall`` may keep it
        waiting past a period without progress (a slow or re-read partition it owns).
        """
        started = time.monotonic()
        deadline = started + limit_s
        while True:
            behind = self.lagging(targets())
            if not behind:
                return True
            now = time.monotonic()
            capped = now - started >= limit_s * STALL_FACTOR
            if now >= deadline and not capped and on_stall is not None:
                if await on_stall(behind):
                    deadline = time.monotonic() + limit_s
                    continue
                # the owner stopped waiting (a rebalance): not given up, waited for next time
                log.warning("%s still behind: %s; the wait ends", self.name, behind)
                return False
            if now >= deadline or capped:
                log.warning(
                    "%s still behind after %.1fs: %s; scoring anyway", self.name, now - started, behind
                )
                current = targets()
                self._given_up.update({key: current[key] for key in behind if key in current})
                return False
            self._advanced.clear()
            try:
                await asyncio.wait_for(self._advanced.wait(), deadline - now)
                deadline = time.monotonic() + limit_s  # progress: allow another stall period
            except TimeoutError:
                continue
