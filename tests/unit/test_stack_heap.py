"""freeze_long_lived: live objects leave the collected heap; garbage and later cycles are still collected."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from stack.heap import freeze_long_lived


class Node:
    def __init__(self) -> None:
        self.partner: Node | None = None


def _cycle() -> Node:
    first, second = Node(), Node()
    first.partner, second.partner = second, first
    return first


@pytest.fixture(autouse=True)
def thawed() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()


def test_objects_alive_at_the_freeze_leave_the_collected_generations() -> None:
    kept = _cycle()
    assert any(o is kept for o in gc.get_objects())
    frozen = freeze_long_lived()
    # Frozen objects are still freed by reference count (another thread's, in a full run): the
    # permanent generation can only shrink after the freeze.
    assert 0 < gc.get_freeze_count() <= frozen
    assert not any(o is kept for o in gc.get_objects())


def test_garbage_present_at_the_freeze_is_collected_not_frozen() -> None:
    dropped = _cycle()
    alive = weakref.ref(dropped)
    del dropped  # a cycle: only the cyclic collector frees it
    freeze_long_lived()
    assert alive() is None


def test_cycles_made_after_the_freeze_are_still_collected() -> None:
    freeze_long_lived()
    later = _cycle()
    alive = weakref.ref(later)
    del later
    gc.collect()
    assert alive() is None
