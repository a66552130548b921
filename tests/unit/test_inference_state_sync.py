"""The read-your-writes barrier: wait while the state catches up, give up on a stalled partition once."""

from __future__ import annotations

import asyncio

from inference.state_sync import IngestProgress

KEY = ("transfers", 0)


def test_waits_until_the_applied_offsets_reach_the_target() -> None:
    async def scenario() -> tuple[bool, int]:
        progress = IngestProgress("test")
        waiting = asyncio.create_task(progress.wait_for(lambda: {KEY: 3}, limit_s=5))
        for offset in range(3):
            await asyncio.sleep(0)  # noqa: sleep-ok - yields to the loop so the waiter observes each step
            progress.mark(*KEY, offset)
        return await waiting, progress.lagging({KEY: 3}).get(KEY, 0)

    caught_up, left = asyncio.run(scenario())
    assert caught_up and left == 0


def test_a_stalled_partition_is_given_up_once_per_target() -> None:
    async def scenario() -> tuple[bool, dict[tuple[str, int], int], dict[tuple[str, int], int]]:
        progress = IngestProgress("test")
        first = await progress.wait_for(lambda: {KEY: 10}, limit_s=0.05)
        same_target = progress.lagging({KEY: 10})
        moved_target = progress.lagging({KEY: 11})
        return first, same_target, moved_target

    first, same_target, moved_target = asyncio.run(scenario())
    assert first is False
    assert same_target == {}  # not waited for again at the same target
    assert moved_target == {KEY: 11}  # new messages: waited for again


def test_seeding_from_a_committed_offset_counts_as_applied() -> None:
    progress = IngestProgress("test")
    progress.seed(*KEY, 7)
    assert progress.lagging({KEY: 7}) == {}
    assert progress.lagging({KEY: 9}) == {KEY: 2}
