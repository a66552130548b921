"""Errors of the consumers package: one root, mapped to HTTP codes only in api."""

from __future__ import annotations

from stack.exceptions import TransientError


class ConsumersError(Exception):
    """Root of every error raised by the consumers package."""


class UnknownTopicError(ConsumersError):
    """A topic name that is not in the catalogue (or not on the broker)."""


class PublishError(ConsumersError):
    """The broker did not confirm a published request in time, or refused it."""


class NotReadyError(ConsumersError):
    """A reader or client is not started yet (or was stopped)."""


class StoreUnavailable(ConsumersError, TransientError):
    """Redis (results, model pointer, worker heartbeats) did not answer; retry later (HTTP 503).

    A TransientError too: the shared consume loop (the sink) retries it with backoff instead
    of dead-lettering the batch or dying.
    """
