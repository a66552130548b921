"""Calibrated interval bounds and label health per model version, and the Redis hashes that carry them.

The drift monitor writes them (monitoring/calibration.py computes them from the real fees);
every worker reads the whole hash on a timer and keeps it in memory, so scoring a request
never waits on Redis. One hash per model: field = version, value = the bounds as JSON.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Any, Protocol

import redis

from modelstore.exceptions import EvidenceStoreUnavailable


@contextmanager
def _answered(doing: str) -> Iterator[None]:
    try:
        yield
    except redis.RedisError as exc:
        raise EvidenceStoreUnavailable(f"Redis did not answer ({doing}): {exc}") from exc


@dataclass(frozen=True)
class CalibratedBounds:
    """Offsets on log1p(fee) added to a prediction: [log_fee + low, log_fee + high]."""

    version: str
    level: float  # the share of real fees the interval aims to cover
    low: float
    high: float
    labels: int  # residuals the offsets were computed from (at most the window)

    def to_json(self) -> bytes:
        return json.dumps(asdict(self)).encode()

    @classmethod
    def from_json(cls, raw: bytes | str) -> CalibratedBounds:
        body: dict[str, Any] = json.loads(raw)
        return cls(
            version=str(body["version"]),
            level=float(body["level"]),
            low=float(body["low"]),
            high=float(body["high"]),
            labels=int(body["labels"]),
        )


def calibration_key(prefix: str, model_name: str) -> str:
    return f"{prefix}mlops-fc:calibration:{model_name}"


def health_key(prefix: str, model_name: str) -> str:
    """The monitor's label health per version (monitoring/label_health.py), read by the facade."""
    return f"{prefix}mlops-fc:label-health:{model_name}"


class HashStore(Protocol):
    """The part of a Redis client the bounds need."""

    def hset(self, name: str, key: str, value: bytes) -> object: ...
    def hgetall(self, name: str) -> Any: ...


class BoundsStore:
    """Read and write the calibrated bounds of a model's versions."""

    def __init__(self, client: HashStore, prefix: str, model_name: str) -> None:
        self._client = client
        self.key = calibration_key(prefix, model_name)

    def publish(self, bounds: CalibratedBounds) -> None:
        with _answered("writing calibrated bounds"):
            self._client.hset(self.key, bounds.version, bounds.to_json())

    def read(self) -> dict[str, CalibratedBounds]:
        """Every version's bounds; a value that does not parse is skipped (never served)."""
        out: dict[str, CalibratedBounds] = {}
        with _answered("reading calibrated bounds"):
            found = self._client.hgetall(self.key) or {}
        for field, raw in found.items():
            try:
                bounds = CalibratedBounds.from_json(raw)
            except (ValueError, KeyError, TypeError):
                continue
            version = field.decode() if isinstance(field, bytes) else str(field)
            if bounds.version == version and bounds.low <= bounds.high:
                out[version] = bounds
        return out


def read_health(client: HashStore, prefix: str, model_name: str) -> dict[str, dict[str, Any]]:
    """Every version's label health as the monitor last wrote it."""
    out: dict[str, dict[str, Any]] = {}
    with _answered("reading label health"):
        found = client.hgetall(health_key(prefix, model_name)) or {}
    for field, raw in found.items():
        version = field.decode() if isinstance(field, bytes) else str(field)
        try:
            body = json.loads(raw)
        except ValueError:
            continue
        if isinstance(body, dict):
            out[version] = body
    return out


def write_health(client: HashStore, prefix: str, model_name: str, version: str, body: dict[str, Any]) -> None:
    """One version's label health, as the facade reads it with ``read_health``."""
    with _answered("writing label health"):
        client.hset(health_key(prefix, model_name), version, json.dumps(body).encode())
