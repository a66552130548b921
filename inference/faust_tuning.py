"""Two corrections to faust-streaming that its settings do not reach.

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
"""

from __future__ import annotations

import logging
from typing import Any

from faust.transport import consumer as faust_consumer
from faust.transport.drivers import aiokafka as faust_aiokafka

log = logging.getLogger(__name__)


def limit_fetch_wait(max_wait_ms: int) -> None:
    """Make every Faust worker consumer built after this call long-poll at most ``max_wait_ms``."""
    thread_class = faust_aiokafka.AIOKafkaConsumerThread
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
    consumer_class = faust_consumer.Consumer
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
