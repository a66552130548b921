"""History: the lazily built transfer-id index agrees with the entries it caches."""

from __future__ import annotations

from features.history import Deal, History


def _history() -> History:
    history = History()
    for i in range(30):
        history = history.add(Deal(float(i), f"t{i}", float(i) / 10), cap=20)
    return history


def test_has_and_visible_see_only_kept_entries() -> None:
    history = _history()
    assert history.has("t29") and history.has("t10")
    assert not history.has("t9")  # cut: counted in dropped, no longer kept
    assert [d.transfer_id for d in history.visible(15.0, "t12")] == ["t10", "t11", "t13", "t14"]
    assert history.visible(15.0, "t9") == history.entries[:5]  # not kept: nothing to take out
    assert history.visible(15.0, None) == history.entries[:5]


def test_an_added_deal_is_found_by_the_new_history_not_the_old() -> None:
    history = _history()
    assert not history.has("t30")  # builds the old history's index
    newer = history.add(Deal(30.0, "t30", 3.0), cap=20)
    assert newer.has("t30") and not history.has("t30")
    assert "t30" not in [d.transfer_id for d in newer.visible(31.0, "t30")]


def test_the_index_is_not_part_of_equality_or_the_dict() -> None:
    used, fresh = _history(), _history()
    used.has("t10")
    assert used == fresh
    assert used.to_dict() == fresh.to_dict()
    assert History.from_dict(used.to_dict()) == used
