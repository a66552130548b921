"""The request pipeline: a batch of requests in, one result per request out, confirmed in order.

Per batch: repeats already answered are dropped, the read-your-writes barrier waits for the
state published before the requests, each request is decoded (its headers checked against
its body) and joined with the feature state, the whole batch is scored with one model, and
the results go to the confirmation chain. What can't be decoded or joined is dead-lettered;
its offset is confirmed with the batch.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence

from faust.types import TP

from features.club_stats import ClubStatsCache
from features.vector import vector
from inference.barrier import ReadYourWrites
from inference.calibrated import IntervalBounds
from inference.confirmations import ConfirmationChain, Offsets, ResultProducer
from inference.dead_letters import ConsumedMessage, DeadLetters
from inference.metrics import WorkerMetrics
from inference.model_holder import ModelHolder
from inference.player_state import PlayerStates
from inference.request_offsets import RequestOffsets
from inference.result_codec import encode_results
from inference.scoring import Pending, error_results, feature_matrix, score_batch
from inference.shadow_model import ShadowHolder
from inference.transfers_view import TransfersView
from schemas.codec import decode
from schemas.exceptions import SchemaDecodeError
from schemas.predictions import PredictionRequest, PredictionResult
from stack.async_producer import OutgoingMessage
from stack.heap import freeze_long_lived

log = logging.getLogger(__name__)
VIEW_CATCH_UP_TIMEOUT_S = 120.0


class RequestPipeline:
    def __init__(
        self,
        holder: ModelHolder,
        players: PlayerStates,
        view: TransfersView,
        barrier: ReadYourWrites,
        offsets: RequestOffsets,
        dead_letters: DeadLetters,
        producer: ResultProducer,
        metrics: WorkerMetrics,
        results_topic: str,
        source: str,
        no_model_wait_s: float,
        bounds: IntervalBounds | None = None,
        shadow: ShadowHolder | None = None,
        shadow_topic: str | None = None,
    ) -> None:
        self._holder = holder
        self._players = players
        self._view = view
        self._barrier = barrier
        self._offsets = offsets
        self._dead_letters = dead_letters
        self._metrics = metrics
        self._results_topic = results_topic
        self._source = source
        self._no_model_wait_s = no_model_wait_s
        self._bounds = bounds or IntervalBounds(None)
        self._shadow = shadow
        self._shadow_topic = shadow_topic
        self.chain = ConfirmationChain(producer, self.confirmed, metrics)
        # club statistics shared by requests that see the same deals, for one view and model
        self.club_stats = ClubStatsCache()
        self.scoring = True  # catching up, or a batch in hand: no stall is judged meanwhile

    async def start(self) -> None:
        """Before the first batch: the transfers view caught up (bounded), start-up heap frozen."""
        try:
            await asyncio.wait_for(self._view.caught_up.wait(), VIEW_CATCH_UP_TIMEOUT_S)
        except TimeoutError:
            log.warning(
                "transfers view not ready after %.0fs; scoring with what it has", VIEW_CATCH_UP_TIMEOUT_S
            )
        freeze_long_lived()  # start-up is done: imports and feature state (a model load freezes again)
        self.scoring = False

    async def score(self, messages: Sequence[ConsumedMessage]) -> None:
        """One batch: barrier, vectors, one predict, results produced; confirmed() records it."""
        self.scoring = True
        try:
            started = time.time()
            fresh = [m for m in messages if not await self._offsets.already_answered(m)]
            if not fresh:
                return
            await self._barrier.wait({m.partition for m in fresh})
            batch = [p for p in [await self._pending(m) for m in fresh] if p is not None]
            results, shadow_outgoing = await self._results(batch, started)
            outgoing = encode_results(self._results_topic, results)
            outgoing += shadow_outgoing  # the shadow's answers, to predictions.shadow only
            await self.chain.submit(outgoing, results, offsets_by_partition(fresh))
        finally:
            self.scoring = False

    async def confirmed(self, results: list[PredictionResult], offsets: Offsets) -> None:
        """The chain's callback once a batch's results are on the broker."""
        if results:
            self._metrics.observe_batch(results)
        await self._offsets.confirmed(offsets)

    def busy(self) -> bool:
        return self.scoring or self.chain.busy()

    async def drain(self) -> None:
        await self.chain.drain()

    async def _results(
        self, batch: list[Pending], started: float
    ) -> tuple[list[PredictionResult], list[OutgoingMessage]]:
        if not batch:
            return [], []  # all dead-lettered: nothing to deliver, offsets still confirmed
        if self._holder.current is None:
            await self._holder.wait_ready(self._no_model_wait_s)
        model = self._holder.current  # read once: the whole batch uses this one model
        name = self._holder.model_name
        try:
            matrix = feature_matrix(batch)
            # the intervals recalibrated on the real fees (held in memory: no Redis call here)
            results = self._bounds.apply(
                score_batch(model, name, batch, started, time.time(), self._source, matrix=matrix)
            )
        except Exception as exc:  # noqa: BLE001 - a broken model must not stall the stream
            log.exception("scoring failed for a batch of %d", len(batch))
            version = None if model is None else model.version
            return error_results(batch, name, version, exc, time.time(), self._source), []
        if self._shadow is None or self._shadow_topic is None:
            return results, []
        shadow = self._shadow.step(model, batch, matrix, started, self._shadow_topic, self._source)
        return results, shadow

    async def _pending(self, message: ConsumedMessage) -> Pending | None:
        try:
            # With the headers: an event_type or schema_version header that the body contradicts
            # is refused, as a router reading only headers would have misfiled the message.
            request = decode(message.value, message.headers, expected=PredictionRequest)
            features = vector(
                request,
                self._players.get(request.player_id),
                self._view.clubs.get(request.from_club),
                self._view.clubs.get(request.to_club),
                self._view.market,
                self.club_stats.at((self._view.applied, self._holder.version)),
            )
        except SchemaDecodeError as exc:
            await self._dead_letters.send(message, exc.reason, "SchemaDecodeError")
            return None
        except Exception as exc:  # noqa: BLE001 - a poison message must not stall the stream
            await self._dead_letters.send(message, f"feature vector failed: {exc!r}", type(exc).__name__)
            return None
        return Pending(request, features, message.timestamp)  # Faust gives seconds


def offsets_by_partition(messages: Sequence[ConsumedMessage]) -> Offsets:
    by_partition: Offsets = {}
    for message in messages:
        by_partition.setdefault(TP(message.topic, message.partition), []).append(message.offset)
    return by_partition
