"""The worker's workarounds for faust-streaming 0.15 and aiokafka 0.14, kept together.

Each entry: symptom, workaround, the test that guards it, the upstream issue. Every private
attribute they touch is listed in ``private.py`` and checked by
tests/unit/test_inference_faust.py::test_every_private_attribute_the_workarounds_touch_exists.

1. **Requests wait out a 1.5 s long-poll.** Faust builds its group consumer with
   ``fetch_max_wait_ms=1500`` hard-coded, and aiokafka leaves partitions holding buffered
   records out of the next fetch, so a fetch sent while requests are scored covers only idle
   partitions and waits its full 1.5 s. Workaround: ``fetch_wait.limit_fetch_wait`` sets it
   on every consumer Faust builds (MLOPS_FC_WORKER_FETCH_MAX_WAIT_MS). Guarded by
   test_inference_faust.py::test_a_faust_consumer_long_polls_as_configured and the
   latency figures of bench/inference.py. Upstream: none found (the value is a literal in
   faust/transport/drivers/aiokafka.py).

2. **Requests lost or skipped after a seek.** Faust delivers a record only if its offset is
   not below the last one it delivered on that partition, and counts a jump in offsets as
   acknowledged: when a seek races records already fetched, the re-read is dropped without a
   word, or the skipped stretch is committed (40-300 requests a partition after a SIGKILL).
   Workaround: acks off for the request topic and the worker's own ledger
   (inference/delivered_offsets.py, inference/request_offsets.py), plus
   ``read_offsets.no_read_offset_filter`` for requests, records and transfers (the ledger
   recognises repeats; player-state updates are idempotent). Guarded by
   test_inference_faust.py::test_the_request_topic_never_has_a_read_offset_so_nothing_is_dropped_or_gap_acked,
   tests/unit/test_inference_delivered_offsets.py and
   tests/e2e/test_worker_flow.py::test_killed_worker_restarts_and_every_request_gets_a_result.
   Upstream: faust-streaming/faust#606 and #596 (gap commits), #312.

3. **Debug logging left on at warn.** Faust's worker keeps a terminal spinner that sets the
   root logger to DEBUG, so every aiokafka debug line is built and handled unseen (12-15 % of
   the busy time under load). Workaround: ``spinnerless.SpinnerlessWorker``. Guarded by
   test_inference_faust.py::test_the_worker_builds_no_debug_records_at_warn. Upstream: none
   found.

4. **The fetcher dies on a seek.** Faust's ``Consumer.seek`` runs aiokafka's seek in the
   caller's thread while aiokafka runs in Faust's consumer thread: a seek landing inside
   ``fetched_records`` removes the partition's buffer under it, KeyError, the worker stops
   (seen after a restart with several re-reads within 70 ms). Workaround:
   ``consumer_calls.seek_on_consumer_thread`` goes through ``seek_wait`` (consumer thread).
   Guarded by the SIGKILL and two-worker tests of tests/e2e/test_worker_flow.py. Upstream:
   robinhood/aiokafka#19 (same KeyError in ``fetched_records``).

5. **A table recovery that never ends.** When a rebalance stops Faust's flow while a fetch
   is handed out, the rest of that fetch is dropped but the position has moved past it: the
   recovery waits forever for a changelog tail that never comes ("No event received for
   active tp"), and the worker never scores again (about one run in four of the two-worker
   test). Workaround: ``stuck_recovery.StuckRecovery`` with ``recovery_watch.RecoveryWatch``
   seeks back to what recovery read. Guarded by tests/unit/test_inference_recovery_watch.py
   and test_two_workers_share_the_load_and_answer_every_request_once. Upstream:
   faust-streaming/faust#74 (recovery hang), robinhood/faust#218.

6. **Static members never leave.** With ``consumer_group_instance_id`` (static membership:
   a restarted worker with the same name takes its partitions back without waiting for the
   dead member's session to expire) aiokafka sends no LeaveGroup on a clean stop, so the
   partitions of a worker stopped for good sit unanswered for a session timeout. Workaround:
   ``leave_on_stop.leave_group_on_stop`` sends it on a clean stop. Guarded by
   test_two_workers_share_the_load_and_answer_every_request_once (stop) and the SIGKILL test
   (restart). Upstream: KIP-345 (static members leave only by admin request).

Not here because it is not a patch: club and market state come from TransfersView, not a
GlobalTable, which misses updates with several workers (faust-streaming/faust#283).
An earlier workaround, committing Faust's acked offsets before revocation
(faust-streaming/faust#502), was dropped once request offsets stopped going through Faust.
"""

from __future__ import annotations

from inference.faust.event_loop import use_event_loop
from inference.faust.fetch_wait import limit_fetch_wait
from inference.faust.leave_on_stop import leave_group_on_stop
from inference.faust.read_offsets import no_read_offset_filter
from inference.faust.spinnerless import SpinnerlessWorker
from schemas.topics import PLAYERS_RECORDS, PLAYERS_SEASON_STATS, PREDICTIONS_REQUESTS, TRANSFERS_COMPLETED
from stack.settings import Settings

__all__ = [
    "SpinnerlessWorker",
    "apply_workarounds",
    "leave_group_on_stop",
    "limit_fetch_wait",
    "no_read_offset_filter",
    "use_event_loop",
]


def apply_workarounds(settings: Settings) -> None:
    """Patch Faust and aiokafka before the worker's app builds its consumer (idempotent)."""
    limit_fetch_wait(settings.worker_fetch_max_wait_ms)
    leave_group_on_stop()
    # Requests: the ledger recognises repeats. Records and transfers: player-state updates are
    # idempotent, so a repeat costs nothing while a record Faust drops would be missing.
    no_read_offset_filter(
        settings.topic(t.name)
        for t in (PREDICTIONS_REQUESTS, PLAYERS_RECORDS, TRANSFERS_COMPLETED, PLAYERS_SEASON_STATS)
    )
