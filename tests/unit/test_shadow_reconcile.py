"""The rule that settles a shadow slot left behind by a crash between a verdict and the slot."""

from __future__ import annotations

import pytest

from modelstore.shadow import ShadowPointer
from modelstore.shadow_reconcile import SlotAction, reconcile

CHALLENGER = ShadowPointer("2", "challenger", "1", 100.0)  # 2 judged against champion 1
GUARD = ShadowPointer("1", "guard", "2", 100.0)  # 1 guards the promotion of 2


@pytest.mark.parametrize(
    ("pointer", "champion", "rejected", "action"),
    [
        (None, "1", False, "keep"),
        (CHALLENGER, "1", False, "keep"),  # still being judged
        (CHALLENGER, "2", False, "guard"),  # promoted (alias moved), the guard never started
        (CHALLENGER, "1", True, "clear"),  # rejected, the slot never emptied
        (CHALLENGER, "3", False, "clear"),  # its champion was replaced by hand
        (GUARD, "2", False, "keep"),  # still guarding
        (GUARD, "1", False, "clear"),  # rolled back to the guard, the slot never emptied
        (GUARD, "3", False, "clear"),  # the promotion it guards no longer serves
    ],
)
def test_a_slot_is_kept_only_while_its_judgement_is_live(
    pointer: ShadowPointer | None, champion: str, rejected: bool, action: SlotAction
) -> None:
    settled = reconcile(pointer, champion, rejected)
    assert settled.action == action
    if pointer is not None:
        assert pointer.version in settled.reason  # the log line names what it settled


def test_a_rejected_version_that_is_the_champion_now_is_guarded_not_cleared() -> None:
    # Promoted by hand after the judge rejected it: it serves, so its predecessor guards it.
    assert reconcile(CHALLENGER, "2", rejected=True).action == "guard"
