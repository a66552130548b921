"""Faust's Monitor sensor without its per-message and per-event bookkeeping.

Faust's default sensor counts every message and event in dicts and stamps each with the time
it came in and went out (several dict updates and clock reads per request), for Faust's web
views, which the worker turns off. Nothing of ours reads those figures: the worker's own
Prometheus metrics (inference/metrics.py) count what it serves. Commit, rebalance and
assignment hooks stay as Faust has them.
"""

from __future__ import annotations

from typing import Any

from faust.sensors.monitor import Monitor


class LeanMonitor(Monitor):
    """Monitor whose per-message hooks do nothing (the base Sensor's behaviour)."""

    def on_message_in(self, tp: Any, offset: int, message: Any) -> None:
        return None

    def on_stream_event_in(self, tp: Any, offset: int, stream: Any, event: Any) -> dict[str, Any] | None:
        return None

    def on_stream_event_out(
        self, tp: Any, offset: int, stream: Any, event: Any, state: dict[str, Any] | None = None
    ) -> None:
        return None

    def on_message_out(self, tp: Any, offset: int, message: Any) -> None:
        return None

    def track_tp_end_offset(self, tp: Any, offset: int) -> None:
        return None
