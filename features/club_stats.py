"""A club's deal statistics for a request, and a cache of them shared by a batch's requests.

The statistics of a club (counts, mean, median and top log fee as buyer and seller, the
newest deal) depend on the request only through which deals are visible: the cut of each
history strictly before the request's time, and the excluded transfer. Many requests see
the same cut, so the worker computes each cut once; ``days_since_deal`` still comes from
each request's own time. The cache is keyed by a version (the club view's and the model's)
and forgets everything when it changes, so it never serves statistics of replaced state.
"""

from __future__ import annotations

import bisect
from collections.abc import Hashable

from features.history import AT, Deal, History
from features.state import ClubState
from features.stats import fee_summary, latest_at

# (bought paid, bought free, bought mean, median, max, sold paid, ..., sold max), newest deal
ClubStats = tuple[tuple[float, ...], float | None]
MAX_ENTRIES = 50_000  # cuts remembered before the cache starts over (a few MB)


def club_stats(club: ClubState, before: float, exclude: str | None) -> ClubStats:
    """The ten deal statistics of a club before ``before`` (without ``exclude``) and its newest deal."""
    values: list[float] = []
    visibles: list[tuple[Deal, ...]] = []
    for paid, free in ((club.bought, club.bought_free), (club.sold, club.sold_free)):
        paid_deals, free_deals = paid.visible(before, exclude), free.visible(before, exclude)
        count, mean, median, top = fee_summary(paid_deals, paid.dropped_before(before))
        values += [count, float(len(free_deals) + free.dropped_before(before)), mean, median, top]
        visibles += [paid_deals, free_deals]
    return tuple(values), latest_at(*visibles)


class ClubStatsCache:
    """club_stats() by visible cut, valid for one version of the club state (and model)."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self._max_entries = max_entries
        self._version: Hashable = None
        self._entries: dict[tuple[object, ...], ClubStats] = {}
        self.hits = 0
        self.misses = 0

    def at(self, version: Hashable) -> ClubStatsCache:
        """The cache for ``version``: emptied when it differs from the last one asked for."""
        if version != self._version:
            self._version = version
            self._entries.clear()
        return self

    def __len__(self) -> int:
        return len(self._entries)

    def stats(self, club: ClubState, before: float, exclude: str | None) -> ClubStats:
        """club_stats(club, before, exclude), computed once per visible cut of the club's deals."""
        histories = (club.bought, club.bought_free, club.sold, club.sold_free)
        if exclude is not None and any(history.has(exclude) for history in histories):
            return club_stats(club, before, exclude)  # the excluded deal changes the cut: not shared
        key = (club.club, *(_cut(history, before) for history in histories))
        found = self._entries.get(key)
        if found is not None:
            self.hits += 1
            return found
        self.misses += 1
        if len(self._entries) >= self._max_entries:
            self._entries.clear()
        found = self._entries[key] = club_stats(club, before, None)
        return found


def _cut(history: History, before: float) -> tuple[int, bool]:
    """What of a history a request at ``before`` sees: its visible entries and its cut ones."""
    return bisect.bisect_left(history.entries, before, key=AT), history.dropped_before(before) > 0
