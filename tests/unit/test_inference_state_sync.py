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


def test_a_stall_the_owner_keeps_waiting_through_is_not_given_up() -> None:
    stalls: list[dict[tuple[str, int], int]] = []

    async def scenario() -> tuple[bool, dict[tuple[str, int], int]]:
        progress = IngestProgress("test")

        async def keep_waiting(behind: dict[tuple[str, int], int]) -> bool:
            stalls.append(behind)
            progress.mark(*KEY, len(stalls) - 1)  # e.g. a re-read delivers one more message
            return True

        caught_up = await progress.wait_for(lambda: {KEY: 2}, limit_s=0.01, on_stall=keep_waiting)
        return caught_up, progress.lagging({KEY: 2})

    caught_up, left = asyncio.run(scenario())
    assert caught_up and left == {}
    assert stalls == [{KEY: 2}, {KEY: 1}]


def test_a_wait_its_owner_ends_is_not_given_up() -> None:
    async def give_up(behind: dict[tuple[str, int], int]) -> bool:
        return False

    async def scenario() -> tuple[bool, dict[tuple[str, int], int]]:
        progress = IngestProgress("test")
        first = await progress.wait_for(lambda: {KEY: 3}, limit_s=0.01, on_stall=give_up)
        return first, progress.lagging({KEY: 3})

    first, same_target = asyncio.run(scenario())
    assert first is False
    assert same_target == {KEY: 3}  # waited for again by the next batch (e.g. after the rebalance)
