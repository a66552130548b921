"""The worker's ledger of answered requests: commits only past confirmed results, re-reads holes."""

from __future__ import annotations

from inference.delivered_offsets import DeliveredOffsets

P0, P1 = ("requests", 0), ("requests", 1)


def test_the_frontier_moves_only_over_contiguous_confirmed_offsets() -> None:
    ledger: DeliveredOffsets[tuple[str, int]] = DeliveredOffsets(stall_s=5.0)
    ledger.start(P0, committed=10, first_offset=10)
    ledger.confirm(P0, [10, 11, 12])
    assert ledger.frontier(P0) == 13
    assert ledger.to_commit() == {P0: 13}
    ledger.committed({P0: 13})
    assert ledger.to_commit() == {}


def test_a_stretch_never_delivered_holds_the_commit_and_asks_for_a_reread() -> None:
    # Faust delivered 163.. right after seeking to the committed 45: 45..162 never reached the agent.
    ledger: DeliveredOffsets[tuple[str, int]] = DeliveredOffsets(stall_s=5.0)
    ledger.start(P0, committed=45, first_offset=163)
    ledger.confirm(P0, range(163, 300))
    assert ledger.frontier(P0) == 45
    assert ledger.to_commit() == {}  # nothing past 45 may be committed
    assert ledger.skipped(now=0.0) == {P0: 45}
    assert ledger.skipped(now=1.0) == {}  # one seek per hole and period
    assert ledger.skipped(now=5.0) == {P0: 45}  # the re-read was overtaken: seek again
    ledger.confirm(P0, range(45, 163))  # the re-read arrives
    assert ledger.frontier(P0) == 300
    assert ledger.skipped(now=6.0) == {}
    assert ledger.to_commit() == {P0: 300}


def test_requests_read_again_are_recognised_as_answered() -> None:
    ledger: DeliveredOffsets[tuple[str, int]] = DeliveredOffsets(stall_s=5.0)
    ledger.start(P0, committed=0, first_offset=0)
    ledger.confirm(P0, [0, 1, 2, 5, 6])
    assert ledger.answered(P0, 1) and ledger.answered(P0, 5)
    assert not ledger.answered(P0, 3) and not ledger.answered(P0, 7)
    assert not ledger.answered(P1, 0)  # not tracked: score it


def test_without_a_committed_offset_the_first_delivered_offset_is_the_start() -> None:
    ledger: DeliveredOffsets[tuple[str, int]] = DeliveredOffsets(stall_s=5.0)
    ledger.start(P1, committed=None, first_offset=17)
    assert ledger.frontier(P1) == 17
    ledger.start(P1, committed=3, first_offset=3)  # already tracked: unchanged
    assert ledger.frontier(P1) == 17


def test_a_partition_read_ahead_with_no_progress_for_the_period_is_read_again() -> None:
    ledger: DeliveredOffsets[tuple[str, int]] = DeliveredOffsets(stall_s=5.0)
    ledger.start(P0, committed=10, first_offset=10)
    ledger.confirm(P0, range(10, 20))
    assert ledger.stalled({P0: 40}, now=100.0) == {}  # ahead, just noticed
    assert ledger.stalled({P0: 40}, now=104.9) == {}
    assert ledger.stalled({P0: 40}, now=105.0) == {P0: 20}
    assert ledger.stalled({P0: 40}, now=106.0) == {}  # the re-read gets a full period


def test_progress_or_a_batch_in_hand_resets_the_wait() -> None:
    ledger: DeliveredOffsets[tuple[str, int]] = DeliveredOffsets(stall_s=5.0)
    ledger.start(P0, committed=0, first_offset=0)
    assert ledger.stalled({P0: 100}, now=0.0) == {}
    ledger.confirm(P0, range(50))
    assert ledger.stalled({P0: 100}, now=6.0) == {}  # progress: a new wait starts here
    ledger.busy()
    assert ledger.stalled({P0: 100}, now=10.0) == {}
    assert ledger.stalled({P0: 100}, now=15.0) == {P0: 50}
    assert ledger.stalled({P0: 50}, now=30.0) == {}  # caught up


def test_revoked_partitions_are_forgotten_and_their_late_confirmations_ignored() -> None:
    ledger: DeliveredOffsets[tuple[str, int]] = DeliveredOffsets(stall_s=1.0)
    ledger.start(P0, committed=5, first_offset=5)
    ledger.start(P1, committed=0, first_offset=0)
    ledger.revoked([P0])
    ledger.confirm(P0, [5, 6])
    assert ledger.owned() == [P1]
    assert ledger.to_commit() == {}
    assert ledger.stalled({P0: 50}, now=0.0) == {}
