"""Which model scores in shadow beside the champion, and why: one pointer per model name.

Two roles share the one shadow slot (one shadow at a time):

- ``challenger``: a version that passed the holdout gate and waits for its live verdict;
- ``guard``: the previous champion after a promotion, kept scoring so the guardrail can roll
  the promotion back if the new champion does worse on the real fees.

The pointer names the champion it is judged against and when it started; its blob lives
under the ordinary artifact key (modelstore/ports.artifact_key), signed like any other, and
workers verify it as they verify the champion. Writers: the lifecycle Registry. Readers: the
workers (what to score in shadow) and the monitor (which pairs to judge).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Literal, Protocol

ShadowRole = Literal["challenger", "guard"]


def shadow_key(prefix: str, name: str) -> str:
    return f"{prefix}model:{name}:shadow"


def pairs_prefix(prefix: str, name: str) -> str:
    """Where the monitor keeps the labelled pairs of each judgement (monitoring/shadow_pairs.py)."""
    return f"{prefix}mlops-fc:shadow:{name}"


def pair_keys(pairs_at: str, session: str) -> tuple[str, str]:
    """(parts waiting for the rest of their pair, complete pairs) of one judgement."""
    base = f"{pairs_at}:{session}"
    return f"{base}:waiting", f"{base}:pairs"


@dataclass(frozen=True)
class ShadowPointer:
    version: str
    role: ShadowRole
    champion: str  # the version it is compared with
    since: float  # time.time() when it started scoring in shadow

    @property
    def session(self) -> str:
        """Names one judgement: the same version may come back later in another role."""
        return f"{self.role}:{self.version}:{self.champion}:{self.since:.6f}"

    def dumps(self) -> bytes:
        return json.dumps(asdict(self)).encode()

    @classmethod
    def loads(cls, raw: bytes | str) -> ShadowPointer:
        body = json.loads(raw)
        role = body["role"]
        if role not in ("challenger", "guard"):
            raise ValueError(f"unknown shadow role {role!r}")
        return cls(str(body["version"]), role, str(body["champion"]), float(body["since"]))


class KeyValue(Protocol):
    def get(self, name: str) -> bytes | str | None: ...
    def set(self, name: str, value: bytes) -> object: ...
    def delete(self, *names: str) -> object: ...


@dataclass
class ShadowSlot:
    """The shadow pointer in Redis (or any get/set/delete store)."""

    store: KeyValue
    prefix: str
    name: str

    @property
    def key(self) -> str:
        return shadow_key(self.prefix, self.name)

    def get(self) -> ShadowPointer | None:
        raw = self.store.get(self.key)
        if raw is None:
            return None
        try:
            return ShadowPointer.loads(raw)
        except (ValueError, KeyError, TypeError):
            return None  # unreadable: no shadow (the next write replaces it)

    def put(self, pointer: ShadowPointer) -> None:
        self.store.set(self.key, pointer.dumps())

    def clear(self) -> None:
        self.store.delete(self.key)


class DictStore:
    """An in-memory KeyValue for unit tests."""

    def __init__(self) -> None:
        self.data: dict[str, bytes] = {}

    def get(self, name: str) -> bytes | None:
        return self.data.get(name)

    def set(self, name: str, value: bytes) -> object:
        self.data[name] = value
        return True

    def delete(self, *names: str) -> object:
        for name in names:
            self.data.pop(name, None)
        return len(names)
