"""The recovery watch: a changelog partition fetched past what recovery read, idle a period, is re-read."""

from __future__ import annotations

from inference.faust.recovery_watch import RecoveryWatch

C2, C3 = ("changelog", 2), ("changelog", 3)


def test_a_recovery_with_the_position_at_the_end_and_no_progress_is_read_again_after_the_period() -> None:
    # Recovery read nothing (-1) of 0..223; the consumer is already at 224: the records were dropped.
    watch: RecoveryWatch[tuple[str, int]] = RecoveryWatch(stall_s=5.0)
    assert watch.stuck({C2: -1}, {C2: 223}, {C2: 224}, now=0.0) == {}
    assert watch.stuck({C2: -1}, {C2: 223}, {C2: 224}, now=4.9) == {}
    assert watch.stuck({C2: -1}, {C2: 223}, {C2: 224}, now=5.0) == {C2: 0}
    assert watch.stuck({C2: -1}, {C2: 223}, {C2: 224}, now=6.0) == {}  # the re-read gets a period


def test_progress_a_position_not_past_the_read_offset_or_a_finished_partition_is_left_alone() -> None:
    watch: RecoveryWatch[tuple[str, int]] = RecoveryWatch(stall_s=1.0)
    watch.stuck({C2: 10, C3: 5}, {C2: 223, C3: 50}, {C2: 224, C3: 6}, now=0.0)
    # C2 progressed to 100; C3 is still fetching its next record (position = read + 1).
    assert watch.stuck({C2: 100, C3: 5}, {C2: 223, C3: 50}, {C2: 224, C3: 6}, now=2.0) == {}
    assert watch.stuck({C2: 223, C3: 5}, {C2: 223, C3: 50}, {C2: 224, C3: 6}, now=9.0) == {}
    assert watch.stuck({C2: 100}, {C2: 223}, {C2: 224}, now=10.0) == {}  # a new wait starts
    assert watch.stuck({C2: 100}, {C2: 223}, {C2: 224}, now=11.0) == {C2: 101}
