"""An in-memory ModelStore for unit tests, with the same key layout as Redis."""

from __future__ import annotations

from modelstore.exceptions import ArtifactNotFoundError
from modelstore.ports import artifact_key, current_key


class InMemoryModelStore:
    """Dict-backed :class:`~modelstore.ports.ModelStore`; ``data`` is open for tests to tamper."""

    def __init__(self, prefix: str = "") -> None:
        self.prefix = prefix
        self.data: dict[str, bytes] = {}

    def publish(self, name: str, blob: bytes, version: str) -> str:
        key = artifact_key(self.prefix, name, version)
        self.data[key] = bytes(blob)
        self.data[current_key(self.prefix, name)] = version.encode()
        return key

    def activate(self, name: str, version: str) -> str:
        key = artifact_key(self.prefix, name, version)
        if key not in self.data:
            raise ArtifactNotFoundError(f"no artifact for {name} version {version}")
        self.data[current_key(self.prefix, name)] = version.encode()
        return key

    def current_version(self, name: str) -> str | None:
        raw = self.data.get(current_key(self.prefix, name))
        return None if raw is None else raw.decode()

    def fetch(self, name: str, version: str) -> bytes | None:
        return self.data.get(artifact_key(self.prefix, name, version))

    def fetch_current(self, name: str) -> tuple[str, bytes] | None:
        version = self.current_version(name)
        if version is None:
            return None
        blob = self.fetch(name, version)
        return None if blob is None else (version, blob)
