"""Errors of the inference worker."""

from __future__ import annotations

from modelstore.exceptions import ModelStoreError


class InferenceError(Exception):
    """Root of every error raised by the inference worker."""


class MetricsPortInUse(InferenceError, RuntimeError):
    """The worker's metrics port is taken, most often by another worker on this machine."""


class SmokeTestFailed(InferenceError, ModelStoreError):
    """A verified artifact gave unusable predictions on its own reference sample."""


class PointerMismatch(InferenceError, ModelStoreError):
    """A verified artifact names another version than the Redis pointer that led to it."""
