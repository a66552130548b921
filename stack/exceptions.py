"""Errors of the local stack and its clients."""


class StackError(Exception):
    """Root of every local-stack error."""


class PrerequisiteMissing(StackError):
    """A tool the stack needs (java, mvn, redis-server) is not installed."""


class PortInUse(StackError):
    """A port the stack wants is taken by a process that is not ours."""


class StartupTimeout(StackError):
    """A service did not become ready before its deadline."""


class TopicMissing(StackError):
    """A topic a client wants to read does not exist on the broker."""


class TransientError(StackError):
    """An outage, not a bad message: the shared consume loop retries it with backoff."""
