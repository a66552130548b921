"""Faust's hard-coded 1.5 s long-poll of its group consumer, made a setting."""

from __future__ import annotations

from typing import Any

from faust.transport.drivers import aiokafka as faust_aiokafka


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
