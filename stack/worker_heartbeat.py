"""Where each worker's heartbeat lives in Redis: written by the worker, read by the API and alerts."""

from __future__ import annotations

KEY_PREFIX = "mlops-fc:worker:"


def heartbeat_key(worker: str) -> str:
    """``mlops-fc:worker:<name>``: a JSON string {worker, model_name, model_version, updated_at}."""
    return f"{KEY_PREFIX}{worker}"
