"""Faust's settings that shape its cost per event, in one place for the worker and the Faust floor.

bench/faust_floor.py builds its app with the same options, so the worker's CPU per request
and the floor's per message are measured against the same Faust.
"""

from __future__ import annotations

from typing import Any

from inference.faust.lean_monitor import LeanMonitor
from stack.settings import Settings


def faust_tuning(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for ``faust.App``: buffers, fetch sizes and the lean Monitor sensor."""
    return {
        "stream_buffer_maxsize": settings.worker_stream_buffer_maxsize,
        "broker_max_poll_records": settings.worker_max_poll_records or None,  # 0: Faust's no limit
        "consumer_max_fetch_size": settings.worker_max_fetch_bytes,
        "producer_linger": settings.worker_producer_linger_ms / 1000.0,  # Faust takes seconds
        "producer_max_batch_size": settings.worker_producer_batch_bytes,
        "Monitor": LeanMonitor,
    }
