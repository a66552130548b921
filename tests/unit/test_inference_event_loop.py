"""The worker's event loop choice (MLOPS_FC_WORKER_EVENT_LOOP)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
import uvloop

from inference.faust import use_event_loop
from stack.settings import Settings


@pytest.fixture
def restore_policy() -> Iterator[None]:
    before = asyncio.get_event_loop_policy()
    yield
    asyncio.set_event_loop_policy(before)


def test_uvloop_is_the_default_and_builds_uvloop_loops(restore_policy: None) -> None:
    assert Settings().worker_event_loop == "uvloop"
    use_event_loop("uvloop")
    loop = asyncio.new_event_loop()
    try:
        assert isinstance(loop, uvloop.Loop)
    finally:
        loop.close()


def test_asyncio_gives_the_standard_loop_back(restore_policy: None) -> None:
    use_event_loop("uvloop")
    use_event_loop("asyncio")
    loop = asyncio.new_event_loop()
    try:
        assert not isinstance(loop, uvloop.Loop)
    finally:
        loop.close()


def test_an_unknown_loop_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown event loop"):
        use_event_loop("trio")
