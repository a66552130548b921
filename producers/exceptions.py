"""Errors raised by the producers package."""

from __future__ import annotations


class ProducerError(Exception):
    """Root of every error raised by the producers package."""


class CsvFormatError(ProducerError):
    """A file is not in the Transfermarkt CSV format (missing columns, no header)."""


class MissingTopicError(ProducerError):
    """A topic the producer needs does not exist on the broker (run `mlops-fc stack topics`)."""


class DeliveryError(ProducerError):
    """The broker did not confirm every message (delivery reports with errors, or unflushed)."""

    def __init__(self, message: str, failed: int, unflushed: int) -> None:
        super().__init__(message)
        self.failed = failed
        self.unflushed = unflushed
