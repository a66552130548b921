"""Static membership on the real broker: a static member that stops cleanly still leaves the group.

The workers join as static members (group.instance.id = worker name) so a restarted worker
takes its partitions back at once; aiokafka then sends no LeaveGroup on a clean stop, and
the worker's patch (inference/faust/leave_on_stop.py) sends it, so that a worker stopped for
good hands its partitions over at once instead of after the session timeout.
"""

from __future__ import annotations

import asyncio
import time

from aiokafka import AIOKafkaConsumer

from inference.faust.leave_on_stop import leave_group_on_stop
from schemas.topics import PREDICTIONS_REQUESTS
from stack.kafka_connection import kafka_connection
from stack.settings import Settings

SESSION_TIMEOUT_MS = 45_000
# Waiting this long for the hand-over tells a LeaveGroup (seconds) from a session expiry (45 s).
HAND_OVER_DEADLINE_S = SESSION_TIMEOUT_MS / 1000 / 2


def member(settings: Settings, group: str, instance: str) -> AIOKafkaConsumer:
    return AIOKafkaConsumer(
        settings.topic(PREDICTIONS_REQUESTS.name),
        **kafka_connection(settings).aiokafka(),
        group_id=group,
        group_instance_id=instance,
        session_timeout_ms=SESSION_TIMEOUT_MS,
        heartbeat_interval_ms=500,
        enable_auto_commit=False,
    )


async def owns(consumer: AIOKafkaConsumer, count: int, deadline_s: float) -> bool:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        await consumer.getmany(timeout_ms=200)  # drives the member's rebalance
        if len(consumer.assignment()) == count:
            return True
    return False


def test_a_static_member_stopped_cleanly_hands_its_partitions_over_before_its_session_ends(
    settings: Settings, unique: str
) -> None:
    leave_group_on_stop()
    group = f"{settings.topic_prefix}static-{unique}"

    async def scenario() -> tuple[bool, bool]:
        first, second = member(settings, group, "w1"), member(settings, group, "w2")
        await first.start()
        await second.start()
        try:
            both = await asyncio.gather(owns(first, 2, 60), owns(second, 2, 60))
            await first.stop()
            taken_over = await owns(second, settings.topic_partitions, HAND_OVER_DEADLINE_S)
        finally:
            await second.stop()
        return all(both), taken_over

    shared, taken_over = asyncio.run(scenario())
    assert shared, "the two static members never split the partitions"
    assert taken_over, "the stopped static member kept its partitions until its session expired"
