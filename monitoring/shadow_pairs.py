"""The labelled pairs of a shadow judgement, in Redis: both predictions of a request, its real fee.

A pair is one request that the champion and the model in shadow both scored and whose real
fee (TransferCompleted, same transfer id) arrived, in any order. Until all three are there
the parts wait in one hash per judgement (field: transfer id); a complete pair moves to a
list of (champion error, shadow error) as absolute log-fee errors, which is what the judge
reads. Keys are per judgement (modelstore.shadow.ShadowPointer.session), so a restarted
monitor carries on where it stopped and an ended judgement is deleted in one call.
"""

from __future__ import annotations

from typing import Any, Literal, Protocol, cast

import numpy as np

from modelstore.shadow import pair_keys

Part = Literal["champion", "shadow", "label"]
_FIELD = {"champion": "c", "shadow": "s", "label": "y"}


class PairStore(Protocol):
    """Where pairs are kept: Redis in production, memory in unit tests."""

    def add(self, session: str, transfer_id: str, part: Part, log_value: float) -> bool:
        """Record one part of a pair; True when it completed the pair."""
        ...

    def errors(self, session: str) -> tuple[np.ndarray, np.ndarray]:
        """(champion errors, shadow errors) of the complete pairs, paired by position."""
        ...

    def count(self, session: str) -> int: ...

    def drop(self, session: str) -> None:
        """Forget a judgement that ended: its waiting parts and its pairs."""
        ...


def _complete(parts: dict[str, float]) -> tuple[float, float] | None:
    if not all(short in parts for short in _FIELD.values()):
        return None
    label = parts["y"]
    return abs(parts["c"] - label), abs(parts["s"] - label)


# Atomic in Redis: read the waiting parts, add one, and either keep them or move the pair.
_ADD = """
local raw = redis.call('HGET', KEYS[1], ARGV[1])
local parts = raw and cjson.decode(raw) or {}
parts[ARGV[2]] = tonumber(ARGV[3])
if parts['c'] and parts['s'] and parts['y'] then
  redis.call('HDEL', KEYS[1], ARGV[1])
  local c = math.abs(parts['c'] - parts['y'])
  local s = math.abs(parts['s'] - parts['y'])
  redis.call('RPUSH', KEYS[2], string.format('%.17g,%.17g', c, s))
  return 1
end
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(parts))
return 0
"""


class RedisClient(Protocol):
    """The part of a redis.Redis client the pairs need (built in monitoring/bootstrap.py)."""

    def register_script(self, script: str) -> Any: ...
    def lrange(self, name: str, start: int, end: int) -> Any: ...
    def llen(self, name: str) -> Any: ...
    def delete(self, *names: str) -> Any: ...


class RedisPairs:
    def __init__(self, client: RedisClient, prefix: str) -> None:
        self._redis = client
        self._prefix = prefix
        self._add = self._redis.register_script(_ADD)

    def _keys(self, session: str) -> tuple[str, str]:
        return pair_keys(self._prefix, session)

    def add(self, session: str, transfer_id: str, part: Part, log_value: float) -> bool:
        return bool(
            self._add(keys=list(self._keys(session)), args=[transfer_id, _FIELD[part], repr(log_value)])
        )

    def errors(self, session: str) -> tuple[np.ndarray, np.ndarray]:
        raw = cast(list[bytes], self._redis.lrange(self._keys(session)[1], 0, -1))
        if not raw:
            return np.empty(0), np.empty(0)
        both = np.array([[float(x) for x in item.decode().split(",")] for item in raw], dtype="float64")
        return both[:, 0], both[:, 1]

    def count(self, session: str) -> int:
        return int(cast(int, self._redis.llen(self._keys(session)[1])))

    def drop(self, session: str) -> None:
        self._redis.delete(*self._keys(session))


class MemoryPairs:
    def __init__(self) -> None:
        self.waiting: dict[tuple[str, str], dict[str, float]] = {}
        self.pairs: dict[str, list[tuple[float, float]]] = {}

    def add(self, session: str, transfer_id: str, part: Part, log_value: float) -> bool:
        parts = self.waiting.setdefault((session, transfer_id), {})
        parts[_FIELD[part]] = log_value
        pair = _complete(parts)
        if pair is None:
            return False
        del self.waiting[(session, transfer_id)]
        self.pairs.setdefault(session, []).append(pair)
        return True

    def errors(self, session: str) -> tuple[np.ndarray, np.ndarray]:
        pairs = self.pairs.get(session, [])
        if not pairs:
            return np.empty(0), np.empty(0)
        both = np.array(pairs, dtype="float64")
        return both[:, 0], both[:, 1]

    def count(self, session: str) -> int:
        return len(self.pairs.get(session, []))

    def drop(self, session: str) -> None:
        self.pairs.pop(session, None)
        for key in [k for k in self.waiting if k[0] == session]:
            del self.waiting[key]


__all__ = ["MemoryPairs", "PairStore", "Part", "RedisPairs"]
