"""A trigger is retried through Redis and MLflow outages and lost locks, and given up only on stop."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import cast

import pytest
import redis
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import (
    INVALID_PARAMETER_VALUE,
    REQUEST_LIMIT_EXCEEDED,
    RESOURCE_DOES_NOT_EXIST,
    TEMPORARILY_UNAVAILABLE,
)

from modelstore.exceptions import RegistryRefused
from modelstore.mlflow_registry import registry_errors, registry_unavailable
from retrainer.attempts import Backoff, LockedHandler
from retrainer.exceptions import LockLostError
from retrainer.handler import DriftHandler, Outcome
from retrainer.trigger import Trigger
from schemas.commands import RetrainRequested
from schemas.examples import example_of
from stack.exceptions import TransientError

TRIGGER = Trigger.of(example_of(RetrainRequested))
NO_WAIT = Backoff(first_s=0.0, max_s=0.0)


@dataclass
class FlakyHandler:
    failures: list[Exception]
    calls: int = 0

    def handle(self, trigger: Trigger) -> Outcome:
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        return Outcome("promoted", "won", "2")


@dataclass
class CountingLock:
    holds: int = 0
    refuse: list[Exception] = field(default_factory=list)

    @contextmanager
    def held(self, stop: threading.Event) -> Iterator[object]:
        if self.refuse:
            raise self.refuse.pop(0)
        self.holds += 1
        yield self


def locked(handler: FlakyHandler, lock: CountingLock, stop: threading.Event | None = None) -> LockedHandler:
    return LockedHandler(cast(DriftHandler, handler), lock, stop or threading.Event(), NO_WAIT)


def test_redis_errors_and_lost_locks_are_retried_until_an_outcome() -> None:
    handler = FlakyHandler([redis.ConnectionError("refused"), LockLostError("expired")])
    lock = CountingLock(refuse=[redis.TimeoutError("no answer")])
    outcome = locked(handler, lock).handle(TRIGGER)
    assert outcome == Outcome("promoted", "won", "2")
    assert (handler.calls, lock.holds) == (3, 3)


def test_a_stop_during_an_outage_gives_up_without_an_outcome() -> None:
    stop = threading.Event()
    stop.set()
    handler = FlakyHandler([])
    assert locked(handler, CountingLock(), stop).handle(TRIGGER) is None
    assert handler.calls == 0


def test_other_errors_are_not_retried() -> None:
    handler = FlakyHandler([RuntimeError("a bug")])
    with pytest.raises(RuntimeError, match="a bug"):
        locked(handler, CountingLock()).handle(TRIGGER)
    assert handler.calls == 1


def test_backoff_doubles_up_to_its_ceiling() -> None:
    assert Backoff(first_s=0.5, max_s=3.0).delays() == [0.5, 1.0, 2.0, 3.0]


def test_an_mlflow_registry_that_does_not_answer_is_retried_until_an_outcome() -> None:
    locked_db = MlflowException("database is locked", error_code=TEMPORARILY_UNAVAILABLE)
    server_away = MlflowException(
        "API request to http://mlflow:5000/api/2.0/mlflow/runs/get failed with exception x"
    )
    handler = FlakyHandler([locked_db, server_away])
    outcome = locked(handler, CountingLock()).handle(TRIGGER)
    assert outcome == Outcome("promoted", "won", "2")
    assert handler.calls == 3


def test_an_mlflow_refusal_is_not_retried() -> None:
    refused = MlflowException("bad name", error_code=INVALID_PARAMETER_VALUE)
    handler = FlakyHandler([refused])
    with pytest.raises(RegistryRefused, match="bad name"):
        locked(handler, CountingLock()).handle(TRIGGER)
    assert handler.calls == 1


@pytest.mark.parametrize(
    ("error", "outage"),
    [
        (MlflowException("locked", error_code=TEMPORARILY_UNAVAILABLE), True),
        (MlflowException("slow down", error_code=REQUEST_LIMIT_EXCEEDED), True),
        (MlflowException("API request to http://x/api failed with exception refused"), True),
        (MlflowException("no such model", error_code=RESOURCE_DOES_NOT_EXIST), False),
        (MlflowException("bad", error_code=INVALID_PARAMETER_VALUE), False),
        (ValueError("API request to nowhere"), False),
    ],
)
def test_registry_unavailable_tells_an_outage_from_a_refusal(error: Exception, outage: bool) -> None:
    assert registry_unavailable(error) is outage


def test_registry_errors_make_only_outages_a_retry_for_the_consume_loop() -> None:
    with pytest.raises(TransientError, match="MLflow registry unavailable: locked"):
        with registry_errors():
            raise MlflowException("locked", error_code=TEMPORARILY_UNAVAILABLE)
    with pytest.raises(RegistryRefused, match="MLflow registry refused: bad") as refused:
        with registry_errors():
            raise MlflowException("bad", error_code=INVALID_PARAMETER_VALUE)
    assert not isinstance(refused.value, TransientError)
