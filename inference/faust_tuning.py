"""One Faust setting the framework does not expose: how long its consumer long-polls.

faust-streaming builds its group consumer with ``fetch_max_wait_ms=1500`` hard-coded. aiokafka
leaves partitions that still hold buffered records out of the next fetch, so a fetch sent
while requests are being scored covers only idle partitions (the ingest topics, most of the
time) and waits its full 1.5 s; requests that arrive meanwhile wait with it. A short wait
costs a few idle fetches a second on the local broker and takes that delay off every request.
"""

from __future__ import annotations

from typing import Any

from faust.transport.drivers import aiokafka as faust_aiokafka


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
