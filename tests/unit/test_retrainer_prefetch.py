"""The retrainer's history prefetch: an outage is logged when it starts and when it ends, not per try."""

from __future__ import annotations

import logging
import threading
from typing import cast

import pytest

from retrainer.adapters import HistoryChallengers
from retrainer.service import _prefetch


class Flaky:
    """prepare() fails or works as ``outcomes`` say, one per call; the last call stops the prefetch."""

    def __init__(self, outcomes: list[bool], stop: threading.Event) -> None:
        self.outcomes = outcomes
        self.stop = stop
        self.calls = 0

    def prepare(self) -> None:
        works = self.outcomes[self.calls]
        self.calls += 1
        if self.calls == len(self.outcomes):
            self.stop.set()
        if not works:
            raise ConnectionError("broker unreachable")


def test_an_outage_warns_once_and_says_when_it_is_over(caplog: pytest.LogCaptureFixture) -> None:
    stop = threading.Event()
    flaky = Flaky([True, False, False, False, True, True, False, True], stop)
    with caplog.at_level(logging.INFO, logger="retrainer.service"):
        _prefetch(cast(HistoryChallengers, flaky), 0.0, stop)
    assert flaky.calls == 8
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    recovered = [r for r in caplog.records if r.levelno == logging.INFO and "works again" in r.getMessage()]
    assert len(warnings) == 2  # two outages, one warning each
    assert "broker unreachable" in warnings[0].getMessage()
    assert len(recovered) == 2
