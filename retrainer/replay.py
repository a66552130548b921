"""The training set of the history read so far, replaying only what is new when that is exact.

``build_training_set`` replays the season records first, then the transfers in time order.
Each window adds records, which go in before every transfer: replayed naively, each retrain
would start from the beginning (3-44 s a retrain in the main job at load 10). A new record
can only change rows already built if a vector could read it, and a vector reads a season
only when it became known strictly before the request (features.record). So when every new
record became known after the last transfer replayed, adds a season line of its own (no
correction of a (season, team) already held) and leaves each player under the kept-seasons
cap, replaying the new records and then the new transfers on top of the last replay gives
the very frame a full replay would; otherwise the whole history is replayed again.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import pandas as pd

from features.state import PLAYER_SEASONS
from features.training_set import TrainingSetBuilder
from schemas.records import TransferCompleted
from schemas.season_stats import PlayerSeasonStats


class HistoryReplay:
    """The training set of (season records, transfers), each list in its time order."""

    def __init__(self) -> None:
        self._builder = TrainingSetBuilder()
        self._stats: list[PlayerSeasonStats] = []
        self._transfers: list[TransferCompleted] = []
        self.full_replays = 0  # how often the history was replayed again from the start

    def frame(
        self, stats: Sequence[PlayerSeasonStats], transfers: Sequence[TransferCompleted]
    ) -> pd.DataFrame:
        self.update(stats, transfers)
        return self._builder.frame()

    def update(self, stats: Sequence[PlayerSeasonStats], transfers: Sequence[TransferCompleted]) -> None:
        """Bring the replay up to these events: on top of the last one when exact, else anew."""
        if self._extends(stats, transfers):
            self._builder.extend([*stats[len(self._stats) :], *transfers[len(self._transfers) :]])
        else:
            self._builder = TrainingSetBuilder()
            self._builder.extend([*stats, *transfers])
            self.full_replays += 1
        self._stats, self._transfers = list(stats), list(transfers)

    def _extends(self, stats: Sequence[PlayerSeasonStats], transfers: Sequence[TransferCompleted]) -> bool:
        done_stats, done_transfers = self._stats, self._transfers
        if not (_starts_with(stats, done_stats) and _starts_with(transfers, done_transfers)):
            return False  # something arrived out of order: the rows built may have missed it
        new = stats[len(done_stats) :]
        if not new or not done_transfers:
            return True
        last = max(t.transferred_at for t in done_transfers)
        if min(s.known_at for s in new) <= last:
            return False  # a row already built could read it
        held = {(s.player_id, s.season, s.team) for s in done_stats}
        if any((s.player_id, s.season, s.team) in held for s in new):
            return False  # a correction (or a repeat) replaces a line rows may have read
        lines = Counter(s.player_id for s in stats)
        return all(lines[s.player_id] <= PLAYER_SEASONS for s in new)  # no line of earlier rows cut


def _starts_with(events: Sequence[object], head: Sequence[object]) -> bool:
    return len(head) <= len(events) and all(a is b for a, b in zip(head, events, strict=False))
