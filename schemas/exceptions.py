"""Errors raised by the schemas package."""

from __future__ import annotations


class SchemaError(Exception):
    """Root of every error raised by the schemas package."""


class SchemaDecodeError(SchemaError):
    """Bytes that do not decode into a known, valid event; carries the reason and raw bytes."""

    def __init__(self, reason: str, raw: bytes | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.raw = raw


class UnknownPositionError(SchemaError, ValueError):
    """A playing position with no mapping to the canonical set."""


class TopicMismatchError(SchemaError):
    """An event sent to, or keyed for, a topic whose schema does not include it."""
