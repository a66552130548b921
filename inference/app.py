"""The Faust app: topics, the player-state table, and thin registrations of the worker's parts.

Player records, transfers and requests are all keyed by player id with one partition count,
so Faust's co-partitioned assignment gives one worker partition p of all three: the player
table lookup for a request is local. Club and market state come from TransfersView. What
each agent, timer and signal does lives in the parts (inference/parts.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, cast

import faust
from faust.types import TP

from inference.bootstrap import WorkerClients
from inference.faust.tuning import faust_tuning
from inference.metrics import WorkerMetrics
from inference.parts import WorkerParts, assemble
from schemas.topics import (
    DEAD_LETTERS,
    PLAYERS_RECORDS,
    PLAYERS_SEASON_STATS,
    PREDICTIONS_REQUESTS,
    TRANSFERS_COMPLETED,
)
from stack.settings import Settings

LAG_REFRESH_S = 2.0  # the metrics' lag snapshot (Prometheus scrapes every 5 s in compose)


def build_app(
    settings: Settings,
    clients: WorkerClients,
    datadir: str,
    worker_name: str = "worker-1",
    metrics: WorkerMetrics | None = None,
) -> faust.App:
    app = faust.App(
        f"{settings.topic_prefix}{settings.worker_app_id}",
        broker=clients.faust_broker,
        broker_credentials=clients.faust_credentials,
        store="memory://",  # tables recover from their changelog topics on start
        datadir=datadir,
        topic_partitions=settings.topic_partitions,
        topic_disable_leader=True,
        web_enabled=False,
        producer_acks=-1,
        consumer_auto_offset_reset="earliest",
        processing_guarantee="at_least_once",
        broker_commit_interval=settings.worker_commit_interval_s,
        # static membership: a restarted worker of this name takes its partitions straight back
        consumer_group_instance_id=worker_name if settings.worker_static_membership else None,
        **faust_tuning(settings),
    )

    def raw_topic(*names: str, acks: bool = True) -> faust.TopicT:
        topics = (settings.topic(n) for n in names)
        return app.topic(
            *topics, key_type=bytes, value_type=bytes, key_serializer="raw", value_serializer="raw", acks=acks
        )

    table = app.Table(
        "player-state",
        default=None,
        partitions=settings.topic_partitions,
        schema=faust.Schema(key_serializer="json", value_serializer="json"),
    )
    metrics = metrics or WorkerMetrics(worker_name)
    parts = assemble(app, settings, clients, table, raw_topic(DEAD_LETTERS.name), worker_name, metrics)
    requests_topic = raw_topic(PREDICTIONS_REQUESTS.name, acks=False)  # offsets: request_offsets
    _agents(
        app,
        settings,
        parts,
        raw_topic(PLAYERS_RECORDS.name, TRANSFERS_COMPLETED.name, PLAYERS_SEASON_STATS.name),
        requests_topic,
    )
    _timers(app, settings, parts)
    _rebalance_signals(app, parts)
    app.task(parts.models.refresh)  # the first model
    app.task(parts.bounds.refresh)  # calibrated intervals known so far
    app.task(parts.models.follow)
    app.task(clients.view.run)
    return app


def _agents(
    app: faust.App, settings: Settings, parts: WorkerParts, ingest: faust.TopicT, requests: faust.TopicT
) -> None:
    players, pipeline = parts.players, parts.pipeline

    @app.agent(ingest, name="player-state")
    async def update_player_state(stream: faust.StreamT[bytes]) -> AsyncIterator[None]:
        async for event in stream.events():
            await players.apply(event.message)
            yield None

    @app.agent(requests, name="score-requests")
    async def score_requests(stream: faust.StreamT[bytes]) -> AsyncIterator[None]:
        await pipeline.start()
        # take_events is on faust.Stream, not on the StreamT protocol agents are typed with
        batches = cast(faust.Stream[bytes], stream).take_events(
            settings.worker_batch_size, within=settings.worker_batch_wait_ms / 1000
        )
        async for events in batches:
            await pipeline.score([event.message for event in events])
            yield None


def _timers(app: faust.App, settings: Settings, parts: WorkerParts) -> None:
    offsets, pipeline = parts.offsets, parts.pipeline
    stall_check_s = max(settings.worker_stall_s / 2, 0.5)

    @app.timer(interval=stall_check_s)
    async def reread_stalled_requests() -> None:
        await offsets.reread_stalled(busy=app.rebalancing or pipeline.busy())

    @app.timer(interval=settings.worker_commit_interval_s)
    async def commit_answered_requests() -> None:
        if not app.rebalancing:
            await offsets.commit()

    @app.timer(interval=LAG_REFRESH_S)
    async def refresh_lag() -> None:
        parts.lag.refresh()

    app.timer(interval=stall_check_s)(parts.recovery.check)
    app.timer(interval=settings.worker_model_poll_s)(parts.models.refresh)
    app.timer(interval=settings.worker_heartbeat_s)(parts.heartbeat.beat)
    app.timer(interval=settings.worker_interval_poll_s)(parts.bounds.refresh)


def _rebalance_signals(app: faust.App, parts: WorkerParts) -> None:
    # mode types signal receivers as (sender, *args, signal=..., **kwargs); Faust passes these
    # keyword arguments by name, so the named parameters below are what arrives.
    offsets, pipeline = parts.offsets, parts.pipeline

    @app.on_partitions_revoked.connect  # type: ignore[arg-type]
    async def hand_over(sender: faust.App, revoked: set[TP], **_: Any) -> None:
        parts.players.forget()  # streams are drained by now (Faust waits for them before this signal)
        await offsets.hand_over(revoked, pipeline.drain)

    @app.on_partitions_assigned.connect  # type: ignore[arg-type]
    async def restart_the_ledger(sender: faust.App, assigned: set[TP], **_: Any) -> None:
        offsets.restart()

    @app.on_before_shutdown.connect  # type: ignore[arg-type]
    async def commit_before_stopping(sender: faust.App, **_: Any) -> None:
        await offsets.stop(pipeline.drain)
