"""Which transfer-ingester player is this stats row about? Matched, ambiguous or unmatched.

The transfer ingester's player ids (producers.identity) come from names and ages; a stats
file has names (the source's spelling), teams and seasons. A stats player (the source's own
id, with all his rows) is resolved as a whole:

1. candidates: transfer players whose folded name (accents and case ignored) equals his; if
   none, players whose name holds every word of his ("Kepa" -> "Kepa Arrizabalaga");
2. one candidate, found by the full name, with no namesake in the stats file: that one;
3. otherwise the clubs decide: a candidate scores one per stats row whose team, in that
   season, is a club his transfers put him at (the club alias table the transfer ingester
   learned, or a similar name); the unique best score above zero wins;
4. anything else is ambiguous (several fit) or unmatched (none): counted, never guessed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from producers.names import ClubAliases, fold, looks_like
from producers.stats_rows import StatsRow
from schemas.records import TransferCompleted

Outcome = Literal["matched", "ambiguous", "unmatched"]


@dataclass(frozen=True, slots=True)
class Resolution:
    outcome: Outcome
    player_id: str | None = None


@dataclass
class PlayerIndex:
    """Transfer players by folded name and by word, with the clubs each was at per season."""

    aliases: ClubAliases = field(default_factory=ClubAliases)
    by_name: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    by_word: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    words_of: dict[str, frozenset[str]] = field(default_factory=dict)
    clubs: dict[str, set[tuple[int, str]]] = field(default_factory=lambda: defaultdict(set))

    @classmethod
    def build(cls, transfers: Iterable[TransferCompleted], aliases: ClubAliases | None = None) -> PlayerIndex:
        index = cls(aliases=aliases or ClubAliases())
        for transfer in transfers:
            key, pid = fold(transfer.player_name), transfer.player_id
            index.by_name[key].add(pid)
            words = frozenset(key.split())
            index.words_of[pid] = index.words_of.get(pid, frozenset()) | words
            for word in words:
                index.by_word[word].add(pid)
            season = transfer.season
            # Where a move puts a player: the seller in the season before (and, in winter,
            # the season's first half), the buyer in this season and the next.
            for club, seasons in (
                (transfer.from_club, (season - 1, season)),
                (transfer.to_club, (season, season + 1)),
            ):
                for year in seasons:
                    index.clubs[pid].add((year, club))
        return index

    def played_for(self, player_id: str, season: int, team: str) -> bool:
        """Whether the player's transfers put him at `team` (the stats source's name) then."""
        return any(
            year == season and (self.aliases.same(team, club) or looks_like(club, team))
            for year, club in self.clubs.get(player_id, ())
        )

    def candidates(self, name: str) -> tuple[set[str], bool]:
        """(player ids, found by the full name) for a stats source's name."""
        key = fold(name)
        exact = self.by_name.get(key)
        if exact:
            return set(exact), True
        words = key.split()
        if not words:
            return set(), False
        found = set.intersection(*(self.by_word.get(word, set()) for word in words))
        return found, False


def resolve_players(index: PlayerIndex, rows: Sequence[StatsRow]) -> dict[str, Resolution]:
    """Stats source id -> its resolution, for every source id in rows."""
    rows_of: dict[str, list[StatsRow]] = defaultdict(list)
    for row in rows:
        rows_of[row.source_id].append(row)
    namesakes: dict[str, set[str]] = defaultdict(set)
    for source_id, own in rows_of.items():
        namesakes[fold(own[0].player_name)].add(source_id)
    out: dict[str, Resolution] = {}
    for source_id, own in rows_of.items():
        found, exact = index.candidates(own[0].player_name)
        if not found:
            out[source_id] = Resolution("unmatched")
        elif len(found) == 1 and exact and len(namesakes[fold(own[0].player_name)]) == 1:
            out[source_id] = Resolution("matched", next(iter(found)))
        else:
            out[source_id] = _by_clubs(index, own, found)
    return out


def _by_clubs(index: PlayerIndex, rows: list[StatsRow], found: set[str]) -> Resolution:
    scores = {pid: sum(index.played_for(pid, row.season, row.team) for row in rows) for pid in sorted(found)}
    best = max(scores.values())
    winners = [pid for pid, score in scores.items() if score == best]
    if best == 0:
        return Resolution("unmatched" if len(found) == 1 else "ambiguous")
    if len(winners) > 1:
        return Resolution("ambiguous")
    return Resolution("matched", winners[0])
