"""Bounded, time-ordered histories: what the state remembers, and when it happened.

Times are epoch seconds (floats): JSON-able, cheap to compare, and exact for UTC datetimes.
Entries are NamedTuples whose first field is the time; a history keeps them oldest first
and cuts the oldest ones, so every cut entry is at or before the oldest kept one.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any, NamedTuple, TypeVar

T = TypeVar("T", bound=tuple[Any, ...])

# C-level accessors: these scans run for every event of a replay.
AT = itemgetter(0)
TRANSFER_ID = itemgetter(1)

SECONDS_PER_DAY = 86_400.0


def epoch(moment: datetime) -> float:
    """Seconds since 1970 UTC: the time unit of all feature state."""
    return moment.timestamp()


def month_of(at: float) -> int:
    """A month number (year * 12 + month - 1) for monthly buckets."""
    moment = datetime.fromtimestamp(at, UTC)
    return moment.year * 12 + moment.month - 1


def holds(entries: Iterable[tuple[Any, ...]], transfer_id: str | None) -> bool:
    """Whether any entry (time, transfer_id, ...) belongs to this transfer."""
    return transfer_id is not None and transfer_id in map(TRANSFER_ID, entries)


def before(entries: tuple[T, ...], moment: float, exclude: str | None) -> tuple[T, ...]:
    """Entries strictly before `moment`, never the excluded transfer's, oldest first."""
    head = entries[: bisect.bisect_left(entries, moment, key=AT)]
    if holds(head, exclude):
        return tuple(entry for entry in head if entry[1] != exclude)
    return head


def insert_sorted(entries: tuple[T, ...], item: T, cap: int) -> tuple[tuple[T, ...], tuple[T, ...]]:
    """(kept, cut): entries plus item, oldest first, cut to the newest `cap`."""
    if not entries or entries[-1][0] <= item[0]:
        merged = (*entries, item)  # the common case: events arrive in time order
    else:
        i = bisect.bisect_right(entries, item[0], key=AT)
        merged = (*entries[:i], item, *entries[i:])
    if len(merged) <= cap:
        return merged, ()
    return merged[-cap:], merged[:-cap]


class Deal(NamedTuple):
    """One transfer seen from one side: when, which, and its log1p fee (0.0 when free)."""

    at: float
    transfer_id: str
    log_fee: float


@dataclass(frozen=True, slots=True)
class History:
    """The newest deals of one kind, and how many older ones were cut (and until when).

    Counting the cut ones keeps all-time counts exact for any request later than the
    newest cut deal, while the state stays bounded.
    """

    entries: tuple[Deal, ...] = ()
    dropped: int = 0
    dropped_until: float | None = None
    # The kept transfer ids, built on first use: a club keeps up to 220 deals and every vector
    # asks each of its histories whether it holds the transfer being priced.
    _ids: frozenset[str] | None = field(default=None, init=False, compare=False, repr=False)

    def has(self, transfer_id: str) -> bool:
        """Whether this transfer is already remembered (a redelivered event)."""
        ids = self._ids
        if ids is None:
            ids = frozenset(map(TRANSFER_ID, self.entries))
            object.__setattr__(self, "_ids", ids)  # a cache of immutable data: still frozen
        return transfer_id in ids

    def add(self, deal: Deal, cap: int) -> History:
        """A new history with the deal in it, cut to `cap` entries."""
        kept, cut = insert_sorted(self.entries, deal, cap)
        if not cut:
            return History(kept, self.dropped, self.dropped_until)
        until = max(cut[-1].at, self.dropped_until or cut[-1].at)
        return History(kept, self.dropped + len(cut), until)

    def visible(self, moment: float, exclude: str | None) -> tuple[Deal, ...]:
        """Kept deals strictly before `moment`, never the excluded transfer, oldest first."""
        # the id index answers "not here" without the scan `before` would make
        return before(self.entries, moment, exclude if exclude is not None and self.has(exclude) else None)

    def dropped_before(self, moment: float) -> int:
        """How many cut deals count for a request at `moment` (all or, if unsure, none)."""
        if self.dropped_until is not None and self.dropped_until < moment:
            return self.dropped
        return 0

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict."""
        return {
            "entries": [list(deal) for deal in self.entries],
            "dropped": self.dropped,
            "dropped_until": self.dropped_until,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> History:
        """The inverse of to_dict."""
        until = data.get("dropped_until")
        return cls(
            entries=tuple(Deal(float(at), str(tid), float(fee)) for at, tid, fee in data.get("entries", ())),
            dropped=int(data.get("dropped", 0)),
            dropped_until=None if until is None else float(until),
        )
