"""The read-your-writes barrier on a player partition this worker owns: it waits, never scores stale."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from faust.types import TP

from inference.barrier import ReadYourWrites
from inference.state_sync import IngestProgress
from inference.transfers_view import TransfersView

TOPIC = "transfers"
TP3 = TP(TOPIC, 3)


class FakeConsumer:
    """Owns transfers[3]: fetched up to ``position``, high-water ``highwater``; seeks are recorded."""

    def __init__(self, position: int, highwater: int) -> None:
        self._committed_offset: dict[TP, int] = {}
        self._position = position
        self._highwater = highwater
        self.seeks: list[dict[TP, int]] = []
        self.sought = asyncio.Event()

    def assignment(self) -> set[TP]:
        return {TP3}

    def highwater(self, tp: TP) -> int | None:
        return self._highwater

    async def position(self, tp: TP) -> int | None:
        return self._position

    async def seek_wait(self, partitions: Mapping[TP, int]) -> None:
        self.seeks.append(dict(partitions))
        self.sought.set()


def barrier(consumer: FakeConsumer, players: IngestProgress, rebalancing: bool = False) -> ReadYourWrites:
    view = TransfersView(TOPIC, reader=lambda: None, offsets_reader=lambda: None)  # type: ignore[arg-type,return-value]
    return ReadYourWrites(
        lambda: consumer, players, view, [TOPIC], TOPIC, wait_s=0.01, rebalancing=lambda: rebalancing
    )


def test_a_batch_waits_through_stalls_until_its_player_partition_is_applied() -> None:
    # The rest of a fetch was dropped: the consumer sits at 10, the state at 4 (as after a rebalance).
    consumer = FakeConsumer(position=10, highwater=10)
    players = IngestProgress("player-state agent")
    for offset in range(4):
        players.mark(TOPIC, 3, offset)

    async def scenario() -> bool:
        waiting = asyncio.create_task(barrier(consumer, players).wait({3}))
        await asyncio.wait_for(consumer.sought.wait(), 5)  # the first stall: read again from what was applied
        assert not waiting.done()  # still waiting: no stale vector
        for offset in range(4, 10):  # the re-read arrives
            players.mark(TOPIC, 3, offset)
        await asyncio.wait_for(waiting, 5)
        return players.lagging({(TOPIC, 3): 10}) == {}

    assert asyncio.run(scenario())
    assert consumer.seeks[0] == {TP3: 4}


def test_during_a_rebalance_the_batch_stops_waiting() -> None:
    consumer = FakeConsumer(position=10, highwater=10)
    players = IngestProgress("player-state agent")
    asyncio.run(asyncio.wait_for(barrier(consumer, players, rebalancing=True).wait({3}), 5))
    assert consumer.seeks == []
