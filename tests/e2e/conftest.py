"""End-to-end fixtures: a topic namespace with a transfer history and a first model serving."""

from __future__ import annotations

import pytest

from retrainer.initial import train_initial
from schemas.topics import TRANSFERS_COMPLETED
from stack.settings import Settings
from tests.flow_helpers import history, publish

HISTORY = history(1200)
SERVED_UNTIL = 900  # the first model learns HISTORY[:900]; tests stream the rest


@pytest.fixture
def served(settings: Settings) -> Settings:
    """Topics with a transfer history and a first model (version 1) trained on it and serving.

    Promotion by holdout (MLOPS_FC_PROMOTION=holdout): these flows expect a challenger that
    passes the gate to serve at once; the shadow flows (tests/integration/test_shadow_*) ask
    for shadow mode themselves.
    """
    settings = settings.model_copy(update={"promotion": "holdout"})
    publish(settings, TRANSFERS_COMPLETED, HISTORY[:SERVED_UNTIL])
    first = train_initial(settings, transfers=HISTORY[:SERVED_UNTIL])
    assert first.version == "1"
    return settings
