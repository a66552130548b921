"""The worker's parts, each with one job, assembled around one Faust app."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

import faust

from inference.barrier import ReadYourWrites
from inference.bootstrap import WorkerClients
from inference.calibrated import IntervalBounds
from inference.dead_letters import DeadLetters
from inference.faust.consumer_calls import GroupConsumer
from inference.faust.stuck_recovery import StuckRecovery
from inference.group_offsets import GroupOffsets
from inference.heartbeat import Heartbeat
from inference.lag import LagReport
from inference.metrics import WorkerMetrics
from inference.model_following import ModelFollower
from inference.pipeline import RequestPipeline
from inference.player_state import PlayerStates
from inference.request_offsets import RequestOffsets
from inference.scoring import SOURCE
from schemas.codec import Headers
from schemas.topics import (
    MODELS_LIFECYCLE,
    PLAYERS_RECORDS,
    PLAYERS_SEASON_STATS,
    PREDICTIONS_REQUESTS,
    PREDICTIONS_RESULTS,
    PREDICTIONS_SHADOW,
    TRANSFERS_COMPLETED,
)
from stack.settings import Settings


@dataclass(frozen=True)
class WorkerParts:
    players: PlayerStates
    offsets: RequestOffsets
    pipeline: RequestPipeline
    recovery: StuckRecovery
    lag: LagReport
    models: ModelFollower
    heartbeat: Heartbeat
    bounds: IntervalBounds


def assemble(
    app: faust.App,
    settings: Settings,
    clients: WorkerClients,
    table: Any,
    dead_letter_topic: faust.TopicT,
    worker_name: str,
    metrics: WorkerMetrics,
) -> WorkerParts:
    holder, view = clients.holder, clients.view
    metrics.model.version = lambda: holder.version  # read at scrape time
    metrics.model.swaps = lambda: len(holder.swaps)
    metrics.model.refused = lambda: len(holder.refused)
    if clients.shadow is not None:
        metrics.model.follow_shadow(clients.shadow)
    consumer = cast(Callable[[], GroupConsumer], lambda: app.consumer)  # built once the app starts
    source = f"{SOURCE}/{worker_name}"  # results name the worker that scored them
    bounds = clients.interval_bounds or IntervalBounds(None)

    async def send_dead_letter(key: bytes | None, value: bytes, headers: Headers) -> None:
        # Faust types headers as bytes values, which is all the codec puts in
        await dead_letter_topic.send(key=key, value=value, headers=cast(list[tuple[str, bytes]], headers))

    dead_letters = DeadLetters(send_dead_letter, source, metrics, settings.catalogue_name)
    players = PlayerStates(table, dead_letters)
    ingest_topics = [
        settings.topic(spec.name) for spec in (PLAYERS_RECORDS, TRANSFERS_COMPLETED, PLAYERS_SEASON_STATS)
    ]
    barrier = ReadYourWrites(
        consumer,
        players.progress,
        view,
        ingest_topics,
        settings.topic(TRANSFERS_COMPLETED.name),
        settings.worker_state_wait_s,
        rebalancing=lambda: bool(app.rebalancing),
    )
    offsets = RequestOffsets(
        consumer,
        GroupOffsets(clients.admin, app.conf.id),
        settings.topic(PREDICTIONS_REQUESTS.name),
        settings.worker_stall_s,
        metrics,
    )
    pipeline = RequestPipeline(
        holder,
        players,
        view,
        barrier,
        offsets,
        dead_letters,
        clients.results,
        metrics,
        results_topic=settings.topic(PREDICTIONS_RESULTS.name),
        source=source,
        no_model_wait_s=settings.worker_no_model_wait_s,
        bounds=bounds,
        shadow=clients.shadow,
        shadow_topic=settings.topic(PREDICTIONS_SHADOW.name),
    )
    return WorkerParts(
        players=players,
        offsets=offsets,
        pipeline=pipeline,
        recovery=StuckRecovery(app.tables, consumer, settings.worker_stall_s),
        lag=LagReport(consumer, offsets, players.progress, ingest_topics, settings.catalogue_name, metrics),
        models=ModelFollower(
            holder, clients.lifecycle_reader, settings.topic(MODELS_LIFECYCLE.name), shadow=clients.shadow
        ),
        heartbeat=Heartbeat(
            clients.heartbeat_store, worker_name, holder, settings.worker_heartbeat_s, settings.topic_prefix
        ),
        bounds=bounds,
    )
