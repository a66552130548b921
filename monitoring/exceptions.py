"""Errors of the drift monitor."""

from __future__ import annotations


class DriftError(Exception):
    """Root of every error raised by the drift monitor."""


class DriftPublishError(DriftError):
    """A drift event or dead letter was not acknowledged by the broker."""


class ReportPathError(DriftError):
    """A report URI does not name a report file under the state folder."""
