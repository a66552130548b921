"""Where each worker's heartbeat lives in Redis: written by the worker, read by the API and alerts.

Under the deployment's topic prefix like every other key of ours (``<prefix>mlops-fc:...``),
so two stacks sharing one Redis never count each other's workers.
"""

from __future__ import annotations

KEY_PREFIX = "mlops-fc:worker:"


def heartbeat_key(prefix: str, worker: str) -> str:
    """``<prefix>mlops-fc:worker:<name>``: a JSON string {worker, model_name, model_version, updated_at}."""
    return f"{prefix}{KEY_PREFIX}{worker}"


def heartbeat_pattern(prefix: str) -> str:
    """A SCAN pattern matching every heartbeat key of one deployment."""
    return f"{heartbeat_key(prefix, '')}*"
