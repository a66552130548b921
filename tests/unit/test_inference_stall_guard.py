"""The stall guard: only a partition fetched ahead, idle for a whole period, is read again."""

from __future__ import annotations

from inference.stall_guard import StallGuard

P0, P1 = ("requests", 0), ("requests", 1)


def test_a_partition_ahead_with_no_progress_for_the_period_is_read_again_from_the_last_handled() -> None:
    guard = StallGuard(stall_s=5.0)
    guard.assigned({P0: 10, P1: 0})
    guard.handled(P0, 19)  # the agent took 10..19
    assert guard.stalled({P0: 40, P1: 0}, now=100.0) == {}  # ahead, but only just noticed
    assert guard.stalled({P0: 40, P1: 0}, now=104.9) == {}
    assert guard.stalled({P0: 40, P1: 0}, now=105.0) == {P0: 20}
    assert guard.stalled({P0: 40, P1: 0}, now=106.0) == {}  # the re-read gets a full period


def test_progress_or_a_busy_agent_resets_the_wait() -> None:
    guard = StallGuard(stall_s=5.0)
    guard.assigned({P0: 0})
    assert guard.stalled({P0: 100}, now=0.0) == {}
    guard.handled(P0, 49)
    assert guard.stalled({P0: 100}, now=6.0) == {}  # progress at 49: a new wait starts here
    guard.busy()
    assert guard.stalled({P0: 100}, now=10.0) == {}
    assert guard.stalled({P0: 100}, now=15.0) == {P0: 50}


def test_caught_up_unknown_and_revoked_partitions_are_left_alone() -> None:
    guard = StallGuard(stall_s=1.0)
    guard.assigned({P0: 5, P1: None})  # nothing committed on P1 yet: no expectation
    assert guard.stalled({P0: 5, P1: 30}, now=0.0) == {}
    assert guard.stalled({P0: 5, P1: 30}, now=9.0) == {}
    guard.assigned({P1: 7})  # P0 revoked, P1 now has a committed offset
    assert guard.stalled({P0: 50, P1: 30}, now=10.0) == {}
    assert guard.stalled({P0: 50, P1: 30}, now=11.0) == {P1: 7}
