"""Corrections to faust-streaming that its settings do not reach, and the private parts we use.

1. How long its consumer long-polls. faust-streaming builds its group consumer with
   ``fetch_max_wait_ms=1500`` hard-coded. aiokafka leaves partitions that still hold buffered
   records out of the next fetch, so a fetch sent while requests are being scored covers only
   idle partitions (the ingest topics, most of the time) and waits its full 1.5 s; requests
   that arrive meanwhile wait with it. A short wait costs a few idle fetches a second on the
   local broker and takes that delay off every request.

2. Offsets lost on a rebalance. When partitions are revoked, Faust's consumer drops its record
   of processed-but-not-yet-committed offsets *before* the commit it makes on revocation, so
   everything processed since the last periodic commit (up to 2.8 s of requests) is
   processed again by whoever gets the partition next (faust-streaming/faust#502). Committing
   first keeps at-least-once delivery and leaves only in-flight batches to be repeated.

3. Records dropped after a seek. Faust delivers a record only if its offset is not below the
   last one it delivered on that partition, and counts a jump in offsets as acknowledged.
   When a seek (its own on assignment, or ours) races records already fetched, the stale
   records run the read offset up and the re-read below it is dropped without a word, or
   the skipped stretch is committed. For the request topic the worker keeps its own ledger
   (inference/delivered_offsets.py), which recognises repeats, and player-state updates are
   idempotent, so Faust's filter is off for requests, records and transfers.

4. Debug logging left on. At a log level of warn or above, Faust's worker keeps a terminal
   spinner that turns on every log message: it sets the root logger to DEBUG and adds a
   handler for it, so every aiokafka debug line (several per fetch) is built and handled
   even when nothing is shown. It was 12-15 % of the worker's busy time under load.
   ``SpinnerlessWorker`` keeps the root logger at the level asked for.

5. Seeks from the wrong thread. Faust's ``Consumer.seek`` calls aiokafka's seek in the
   caller's thread while aiokafka runs in Faust's consumer thread: a seek that lands while
   that thread is inside ``fetched_records`` removes the partition's buffer under it, the
   fetcher dies with a KeyError and takes the worker with it (seen in CI after a restart,
   when the ledger re-read several stretches within 70 ms). ``seek_on_consumer_thread``
   goes through Faust's ``seek_wait``, which runs the seek on the consumer thread.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

import faust
from faust.transport import consumer as faust_consumer
from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types import TP

log = logging.getLogger(__name__)


def limit_fetch_wait(max_wait_ms: int) -> None:
    """Make every Faust worker consumer built after this call long-poll at most ``max_wait_ms``."""
    thread_class: Any = faust_aiokafka.AIOKafkaConsumerThread  # patched: typed as Any
    if getattr(thread_class, "_mlops_fc_fetch_wait", None) is not None:
        thread_class._mlops_fc_fetch_wait = max_wait_ms
        return
    original = thread_class._create_worker_consumer

    def create(self: Any, transport: Any) -> Any:
        consumer = original(self, transport)
        # aiokafka keeps the value on its fetcher once started; set it before that.
        consumer._fetch_max_wait_ms = thread_class._mlops_fc_fetch_wait
        return consumer

    thread_class._mlops_fc_fetch_wait = max_wait_ms
    thread_class._create_worker_consumer = create


def commit_before_revoke() -> None:
    """Commit processed offsets when partitions are revoked, before Faust forgets them."""
    consumer_class: Any = faust_consumer.Consumer  # patched: typed as Any
    if getattr(consumer_class, "_mlops_fc_commit_before_revoke", False):
        return
    original = consumer_class.on_partitions_revoked

    async def on_partitions_revoked(self: Any, revoked: Any) -> None:
        try:
            # A commit already under way returns False without taking the newest acks: commit again.
            if not await self.commit():
                await self.commit()
        except Exception:  # noqa: BLE001 - a failed commit only means repeats, as without this
            log.warning("commit before revoking %d partitions failed", len(revoked), exc_info=True)
        await original(self, revoked)

    consumer_class.on_partitions_revoked = on_partitions_revoked
    consumer_class._mlops_fc_commit_before_revoke = True


class _ReadOffsetsExcept(defaultdict[TP, int | None]):
    """Faust's last-read offset per partition, never set for the given topics."""

    def __init__(self, topics: set[str]) -> None:
        super().__init__(lambda: None)
        self.topics = topics

    def __getitem__(self, tp: TP) -> int | None:
        return None if tp.topic in self.topics else super().__getitem__(tp)

    def __setitem__(self, tp: TP, offset: int | None) -> None:
        if tp.topic not in self.topics:
            super().__setitem__(tp, offset)

    def update(self, *others: Any, **more: Any) -> None:  # type: ignore[override]
        for tp, offset in dict(*others, **more).items():
            self[tp] = offset


def no_read_offset_filter(topics: Iterable[str]) -> None:
    """Let every Faust consumer built after this call deliver all records of ``topics``."""
    consumer_class: Any = faust_consumer.Consumer  # patched: typed as Any
    unfiltered: set[str] | None = getattr(consumer_class, "_mlops_fc_unfiltered", None)
    if unfiltered is not None:
        unfiltered.update(topics)
        return
    unfiltered = set(topics)
    original = consumer_class.__init__

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        self._read_offset = _ReadOffsetsExcept(unfiltered)

    consumer_class._mlops_fc_unfiltered = unfiltered
    consumer_class.__init__ = init


def committed_offset(consumer: Any, tp: TP) -> int | None:
    """The group's offset Faust read when it last sought this partition (None: none yet)."""
    offset = consumer._committed_offset.get(tp)
    return None if offset is None else int(offset)


async def commit_offsets(consumer: Any, offsets: Mapping[TP, int]) -> bool:
    """Commit exactly these offsets (Faust's public commit only takes offsets it saw acked)."""
    return bool(await consumer._commit_offsets(offsets))


class SpinnerlessWorker(faust.Worker):
    """Faust's worker without its progress spinner, so the root logger keeps the asked level."""

    def on_setup_root_logger(self, logger: logging.Logger, level: int) -> None:
        self.spinner = None  # no spinner: Faust then leaves the root logger and its handler alone


async def seek_on_consumer_thread(consumer: Any, tp: TP, offset: int) -> None:
    """Seek one partition from the event loop without racing Faust's consumer thread (see 5)."""
    await consumer.seek_wait({tp: offset})
