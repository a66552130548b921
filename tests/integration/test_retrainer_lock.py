"""The retrain lock on a real Redis: renewed from its own thread, lost when taken, never fatal."""

from __future__ import annotations

import threading
import uuid

import pytest

from retrainer.exceptions import LockLostError
from retrainer.lock import RetrainLock
from stack.redis_clients import redis_client
from stack.settings import Settings
from tests.api_helpers import wait_until

TTL_S = 0.6


def lock_name() -> str:
    return f"test:retrainer:lock:{uuid.uuid4().hex}"


class CountingLock(RetrainLock):
    """Counts the checks that succeeded (the renewer thread's and the test's)."""

    renewed = 0

    def check(self) -> None:
        super().check()
        self.renewed += 1


def test_a_hold_outlasting_the_ttl_stays_ours_and_is_released(settings: Settings) -> None:
    client = redis_client(settings)
    name = lock_name()
    lock = CountingLock(client, name, TTL_S)
    with lock.held(threading.Event()):
        token = client.get(name)
        # Renewals run every TTL/3 from the lock's own thread: after six, two TTLs have passed.
        assert wait_until(lambda: lock.renewed >= 6, 30.0), "the renewer thread did not renew"
        assert client.get(name) == token
        lock.check()  # still ours, long after the first TTL ran out
    assert client.get(name) is None


def test_a_lock_taken_by_another_holder_is_lost_at_the_next_check(settings: Settings) -> None:
    client = redis_client(settings)
    name = lock_name()
    lock = RetrainLock(client, name, TTL_S)
    with lock.held(threading.Event()):
        client.set(name, b"someone-else")  # what expiry followed by another acquire looks like
        with pytest.raises(LockLostError, match="expired or was taken"):
            lock.check()
    assert client.get(name) == b"someone-else"  # the release did not delete another's lock


def test_a_second_holder_waits_and_gives_up_on_stop(settings: Settings) -> None:
    client = redis_client(settings)
    name = lock_name()
    first, second = RetrainLock(client, name, TTL_S), RetrainLock(client, name, TTL_S)
    stop = threading.Event()
    with first.held(threading.Event()):
        stop.set()
        with pytest.raises(LockLostError, match="stopped while another retrainer held"), second.held(stop):
            raise AssertionError("two holders at once")
