"""The Redis adapter of the ModelStore port: blobs by version, a pointer to the current one."""

from __future__ import annotations

from typing import Any

import redis

from modelstore.exceptions import ArtifactNotFoundError
from modelstore.ports import artifact_key, current_key
from modelstore.shadow import ShadowSlot, pair_keys, pairs_prefix

# One round trip reads the pointer and the blob it names, so a publish between two GETs
# can never pair a version with another version's bytes.
_FETCH_CURRENT = """
local version = redis.call('GET', KEYS[1])
if not version then return nil end
local blob = redis.call('GET', ARGV[1] .. version)
if not blob then return nil end
return {version, blob}
"""

# Moves the pointer only if the blob is there: a rollback never points at nothing.
_ACTIVATE = """
if redis.call('EXISTS', KEYS[2]) == 0 then return 0 end
redis.call('SET', KEYS[1], ARGV[1])
return 1
"""


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class ModelCache:
    """Signed model blobs in Redis; the client is built by the caller at start-up.

    The client must return bytes (``decode_responses=False``, the redis-py default).
    """

    def __init__(self, client: redis.Redis, prefix: str = "") -> None:
        self._redis = client
        self.prefix = prefix
        self._fetch_current = client.register_script(_FETCH_CURRENT)
        self._activate = client.register_script(_ACTIVATE)

    def key(self, name: str, version: str) -> str:
        return artifact_key(self.prefix, name, version)

    def publish(self, name: str, blob: bytes, version: str) -> str:
        key = self.key(name, version)
        # MULTI/EXEC: readers see either the old pointer or the new blob with its pointer.
        with self._redis.pipeline(transaction=True) as pipe:
            pipe.set(key, blob)
            pipe.set(current_key(self.prefix, name), version)
            pipe.execute()
        return key

    def store(self, name: str, blob: bytes, version: str) -> str:
        """Store a blob without making it current (a model in shadow); returns its key."""
        key = self.key(name, version)
        self._redis.set(key, blob)
        return key

    def shadow_slot(self, name: str) -> ShadowSlot:
        """The pointer to the model scoring in shadow beside ``name``'s champion."""
        return ShadowSlot(self._redis, self.prefix, name)  # type: ignore[arg-type]

    def shadow_pairs(self, name: str, session: str) -> int:
        """Labelled pairs the monitor has counted so far for one shadow judgement."""
        return int(self._redis.llen(pair_keys(pairs_prefix(self.prefix, name), session)[1]))

    def activate(self, name: str, version: str) -> str:
        key = self.key(name, version)
        if not self._activate(keys=[current_key(self.prefix, name), key], args=[version]):
            raise ArtifactNotFoundError(f"no artifact for {name} version {version} in Redis")
        return key

    def current_version(self, name: str) -> str | None:
        raw = self._redis.get(current_key(self.prefix, name))
        return None if raw is None else _text(raw)

    def fetch(self, name: str, version: str) -> bytes | None:
        raw = self._redis.get(self.key(name, version))
        return None if raw is None else bytes(raw)  # type: ignore[arg-type]

    def fetch_current(self, name: str) -> tuple[str, bytes] | None:
        pointer = current_key(self.prefix, name)
        found = self._fetch_current(keys=[pointer], args=[artifact_key(self.prefix, name, "")])
        if not found:
            return None
        version, blob = found
        return _text(version), bytes(blob)
