"""Bounded windows of recent observations, and the join of predictions with their labels."""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

import numpy as np
import pandas as pd

K = TypeVar("K")
V = TypeVar("V")


class FeatureWindow:
    """The latest scored vectors, in the reference's column order, with when they were scored."""

    def __init__(self, columns: tuple[str, ...], size: int) -> None:
        self.columns = columns
        self._rows: deque[tuple[float, ...]] = deque(maxlen=size)
        self._times: deque[datetime] = deque(maxlen=size)
        self.added_since_check = 0

    def __len__(self) -> int:
        return len(self._rows)

    def add(self, features: Mapping[str, float], at: datetime) -> bool:
        """Append one vector; False (and nothing kept) when it lacks a reference column."""
        try:
            row = tuple(float(features[name]) for name in self.columns)
        except KeyError:
            return False
        self._rows.append(row)
        self._times.append(at)
        self.added_since_check += 1
        return True

    def frame(self) -> pd.DataFrame:
        matrix = np.array(self._rows, dtype=np.float64).reshape(len(self._rows), len(self.columns))
        return pd.DataFrame(matrix, columns=list(self.columns))

    def bounds(self) -> tuple[datetime, datetime]:
        # Results of several partitions interleave: the bounds are extremes, not ends.
        return min(self._times), max(self._times)

    def clear(self) -> None:
        self._rows.clear()
        self._times.clear()
        self.added_since_check = 0

    def dump(self) -> dict[str, Any]:
        return {
            "columns": list(self.columns),
            "rows": [list(row) for row in self._rows],
            "times": [at.isoformat() for at in self._times],
            "added_since_check": self.added_since_check,
        }

    def load(self, saved: Mapping[str, Any]) -> None:
        """Refill from ``dump()``; nothing when the saved columns are not this window's."""
        self.clear()
        if list(saved["columns"]) != list(self.columns):
            return
        for row, at in zip(saved["rows"], saved["times"], strict=True):
            self._rows.append(tuple(float(v) for v in row))
            self._times.append(datetime.fromisoformat(at))
        self.added_since_check = int(saved["added_since_check"])


class ErrorWindow:
    """Absolute errors on log fee of the latest labelled outcomes, with their event times."""

    def __init__(self, size: int) -> None:
        self._errors: deque[float] = deque(maxlen=size)
        self._times: deque[datetime] = deque(maxlen=size)

    def __len__(self) -> int:
        return len(self._errors)

    def add(self, error: float, at: datetime) -> None:
        self._errors.append(error)
        self._times.append(at)

    def mean(self) -> float:
        return float(np.mean(self._errors)) if self._errors else 0.0

    def bounds(self) -> tuple[datetime, datetime]:
        return min(self._times), max(self._times)

    def clear(self) -> None:
        self._errors.clear()
        self._times.clear()

    def dump(self) -> dict[str, Any]:
        return {"errors": list(self._errors), "times": [at.isoformat() for at in self._times]}

    def load(self, saved: Mapping[str, Any]) -> None:
        self.clear()
        for error, at in zip(saved["errors"], saved["times"], strict=True):
            self.add(float(error), datetime.fromisoformat(at))


@dataclass(frozen=True)
class Prediction:
    log_fee: float
    model_version: str
    # the served interval on log1p(fee), when the result carried one
    log_low: float | None = None
    log_high: float | None = None
    answered_at: float | None = None  # epoch seconds the worker scored it (result.occurred_at)


@dataclass(frozen=True)
class Label:
    log_fee: float
    at: datetime
    seen_at: float | None = None  # epoch seconds the monitor read it


@dataclass(frozen=True)
class Outcome:
    """A prediction met its real fee."""

    model_version: str
    abs_error: float
    at: datetime
    residual: float = 0.0  # real minus predicted, on log1p(fee)
    predicted_log_fee: float = 0.0
    covered: bool | None = None  # the real fee fell inside the served interval (None: no interval)
    delay_s: float | None = None  # from the answer to the label reaching the monitor


class _Bounded(Generic[K, V]):
    """Insertion-ordered map that forgets its oldest entries beyond ``limit``."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.evicted = 0
        self._items: OrderedDict[K, V] = OrderedDict()

    def __len__(self) -> int:
        return len(self._items)

    def put(self, key: K, value: V) -> None:
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > self.limit:
            self._items.popitem(last=False)
            self.evicted += 1

    def pop(self, key: K) -> V | None:
        return self._items.pop(key, None)

    def items(self) -> list[tuple[K, V]]:
        """Oldest first."""
        return list(self._items.items())

    def clear(self) -> None:
        self._items.clear()


class OutcomeJoin:
    """Matches predictions and labels by transfer_id, whichever of the two arrives first.

    The two come from different topics, so a fee may be read before the prediction made
    for it; each side waits (bounded, oldest forgotten first) for the other.
    """

    def __init__(self, limit: int) -> None:
        self.predictions: _Bounded[str, Prediction] = _Bounded(limit)
        self.labels: _Bounded[str, Label] = _Bounded(limit)

    def add_prediction(self, transfer_id: str, prediction: Prediction) -> Outcome | None:
        label = self.labels.pop(transfer_id)
        if label is None:
            self.predictions.put(transfer_id, prediction)
            return None
        return _outcome(prediction, label)

    def dump(self) -> dict[str, Any]:
        return {
            "predictions": [
                [tid, p.log_fee, p.model_version, p.log_low, p.log_high, p.answered_at]
                for tid, p in self.predictions.items()
            ],
            "labels": [
                [tid, label.log_fee, label.at.isoformat(), label.seen_at]
                for tid, label in self.labels.items()
            ],
        }

    def load(self, saved: Mapping[str, Any]) -> None:
        self.predictions.clear()
        self.labels.clear()
        for tid, log_fee, version, *extra in saved["predictions"]:  # older saves: no extra
            low, high, answered = [*extra, None, None, None][:3]
            self.predictions.put(
                str(tid), Prediction(float(log_fee), str(version), _opt(low), _opt(high), _opt(answered))
            )
        for tid, log_fee, at, *extra in saved["labels"]:
            seen = extra[0] if extra else None
            self.labels.put(str(tid), Label(float(log_fee), datetime.fromisoformat(at), _opt(seen)))

    def add_label(self, transfer_id: str, label: Label) -> Outcome | None:
        prediction = self.predictions.pop(transfer_id)
        if prediction is None:
            self.labels.put(transfer_id, label)
            return None
        return _outcome(prediction, label)


def _opt(value: Any) -> float | None:
    return None if value is None else float(value)


def _outcome(prediction: Prediction, label: Label) -> Outcome:
    residual = label.log_fee - prediction.log_fee
    covered = None
    if prediction.log_low is not None and prediction.log_high is not None:
        covered = prediction.log_low <= label.log_fee <= prediction.log_high
    delay = None
    if prediction.answered_at is not None and label.seen_at is not None:
        delay = max(0.0, label.seen_at - prediction.answered_at)
    return Outcome(
        prediction.model_version,
        abs(residual),
        label.at,
        residual=residual,
        predicted_log_fee=prediction.log_fee,
        covered=covered,
        delay_s=delay,
    )
