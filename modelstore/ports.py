"""The port the services depend on; Redis in production, memory in unit tests."""

from __future__ import annotations

from typing import Protocol


def artifact_key(prefix: str, name: str, version: str) -> str:
    """Where the blob of ``name`` at ``version`` lives; lifecycle events carry this key."""
    return f"{prefix}model:{name}:{version}"


def current_key(prefix: str, name: str) -> str:
    """The pointer to the version of ``name`` that serves."""
    return f"{prefix}model:{name}:current"


class ModelStore(Protocol):
    """Signed model blobs by name and version, plus which version is current.

    The store moves opaque bytes; callers verify them with ``load_artifact``.
    """

    def publish(self, name: str, blob: bytes, version: str) -> str:
        """Store ``blob`` and make ``version`` current in one step; returns the blob's key."""
        ...

    def activate(self, name: str, version: str) -> str:
        """Make an already stored version current (rollback); returns the blob's key."""
        ...

    def current_version(self, name: str) -> str | None:
        """The current version of ``name``, if any was published."""
        ...

    def fetch(self, name: str, version: str) -> bytes | None:
        """The blob of ``name`` at ``version``, if stored."""
        ...

    def fetch_current(self, name: str) -> tuple[str, bytes] | None:
        """The current version and its blob, read consistently."""
        ...
