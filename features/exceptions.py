"""Errors raised by the feature package."""

from __future__ import annotations


class FeatureError(ValueError):
    """Root of the feature package's errors."""


class StateMismatchError(FeatureError):
    """An event was applied to the state of another player or club."""
