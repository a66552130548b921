"""Which transfer-ingester player is this stats row about? Matched, ambiguous or unmatched.

The transfer ingester's player ids (producers.identity) come from names and ages; a stats
file has names (the source's spelling), teams and seasons. A stats player (the source's own
id, with all his rows) is resolved as a whole. Names are compared as words
(producers.names.person_words: entities, accents, apostrophes and hyphens ignored), in tiers
from the strictest to the loosest:

1. the same words ("Martin Odegaard" = "Martin Ødegaard");
2. one name's words all in the other's: a short form ("Kepa" -> "Kepa Arrizabalaga") or a
   long one ("Dayotchanculle Upamecano" <- "Dayot Upamecano" is not, "Amad Diallo Traore"
   <- "Amad Diallo" is);
3. the same surname and first initial ("Daniel Drinkwater" = "Danny Drinkwater").

Word order does not matter ("Son Heung-min" = "Heung-min Son"). In a tier: one candidate of
the same words, with no namesake in the stats file, is that one; otherwise the clubs decide:
a candidate scores one per stats row whose team, in that season, is a club his transfers put
him at (the seller counts for the season before a move: the prior-season team). When no
candidate of a tier scores, the clubs are carried forward for the candidates of the same
words or of a short form that keeps the surname ("Aduriz" for "Aritz Aduriz", not "Vicente"
for "Vicente Esquerdo"): a move's buyer stays his club for the seasons up to his next move
(while he is under CAREER_END_AGE), so a player who joined in 2012 and stayed is found at
that club in 2016, and the seller of his first move was his club since he was
CAREER_START_AGE (a 2017 move from Celta finds him at Celta in 2014). Teams are compared through the club
alias table the transfer ingester learned, similar names, and a team alias table learned
here from the players the first tier matched on their own (Understat's "FC Cologne" is
Transfermarkt's "1. FC Köln"). The unique best score above zero wins; a tie above zero is
ambiguous; no club at all tries the next tier. Anything left is ambiguous (several
namesakes) or unmatched, with its reason (the name not found at all, or no candidate at the
stats rows' clubs in those seasons): counted, never guessed.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from producers.names import ClubAliases, fold, looks_like, person_words
from producers.stats_rows import StatsRow
from schemas.records import TransferCompleted

Outcome = Literal["matched", "ambiguous", "unmatched"]
Reason = Literal["", "name not found", "club/season not found"]
ClubSeasons = dict[str, set[tuple[int, str]]]
TEAM_ALIAS_MIN_VOTES = 3
# A move's club is carried forward to his next move only while a player can still be playing:
# a bound of football careers (few outfield players in the big five leagues pass 40), not fitted.
CAREER_END_AGE = 40
# ... and, before his first move, its seller back to the seasons he was CAREER_START_AGE: few
# players of the big five leagues are younger (a bound, not fitted).
CAREER_START_AGE = 17
TEAM_ALIAS_MIN_SHARE = 0.5


@dataclass(frozen=True, slots=True)
class Resolution:
    outcome: Outcome
    player_id: str | None = None
    reason: Reason = ""  # why an unmatched one is unmatched


def _initial_key(words: Sequence[str]) -> tuple[str, str] | None:
    return (words[-1], words[0][0]) if len(words) >= 2 else None


def name_key(words: Sequence[str]) -> tuple[str, ...]:
    """The same words in any order are the same name ("Son Heung-min", "Heung-min Son")."""
    return tuple(sorted(words))


@dataclass
class PlayerIndex:
    """Transfer players by name words, with the clubs each was at per season."""

    aliases: ClubAliases = field(default_factory=ClubAliases)
    by_name: dict[tuple[str, ...], set[str]] = field(default_factory=lambda: defaultdict(set))
    by_word: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    by_initial: dict[tuple[str, str], set[str]] = field(default_factory=lambda: defaultdict(set))
    names_of: dict[str, set[tuple[str, ...]]] = field(default_factory=lambda: defaultdict(set))
    clubs: ClubSeasons = field(default_factory=lambda: defaultdict(set))
    carried: ClubSeasons = field(default_factory=lambda: defaultdict(set))  # buyer until next move
    teams: dict[str, str] = field(default_factory=dict)  # folded stats team -> transfer club

    @classmethod
    def build(cls, transfers: Iterable[TransferCompleted], aliases: ClubAliases | None = None) -> PlayerIndex:
        index = cls(aliases=aliases or ClubAliases())
        moves: dict[str, list[TransferCompleted]] = defaultdict(list)
        for transfer in transfers:
            words, pid = person_words(transfer.player_name), transfer.player_id
            moves[pid].append(transfer)
            if words and words not in index.names_of[pid]:
                index.names_of[pid].add(words)
                index.by_name[name_key(words)].add(pid)
                for word in words:
                    index.by_word[word].add(pid)
                initial = _initial_key(words)
                if initial is not None:
                    index.by_initial[initial].add(pid)
            season = transfer.season
            # Where a move puts a player: the seller in the season before (and, in winter,
            # the season's first half), the buyer in this season and the next.
            for club, seasons in (
                (transfer.from_club, (season - 1, season)),
                (transfer.to_club, (season, season + 1)),
            ):
                for year in seasons:
                    index.clubs[pid].add((year, club))
        for pid, own in moves.items():
            index.carried[pid] = carried_clubs(own)
        return index

    def played_for(self, player_id: str, season: int, team: str, clubs: ClubSeasons | None = None) -> bool:
        """Whether the player's transfers put him at `team` (the stats source's name) then
        (`clubs`: self.clubs, or self.carried for the clubs carried forward).

        A row of two teams ("Monaco,Paris Saint Germain") counts when either fits."""
        return any(
            year == season and any(self._same_team(part, club) for part in team.split(","))
            for year, club in (self.clubs if clubs is None else clubs).get(player_id, ())
        )

    def _same_team(self, team: str, club: str) -> bool:
        learned = self.teams.get(fold(team))
        if learned is not None and self.aliases.canonical(learned) == self.aliases.canonical(club):
            return True
        return self.aliases.same(team, club) or looks_like(club, team) or looks_like(team, club)

    def tiers(self, name: str) -> list[tuple[set[str], set[str]]]:
        """Candidate sets for a stats source's name, strictest first: (player ids, those whose
        names are close enough for the clubs carried forward: the same words, or a short form
        with the same last word)."""
        words = person_words(name)
        if not words:
            return []
        exact = set(self.by_name.get(name_key(words), ()))
        mine = set(words)
        near: set[str] = set()
        near_surname: set[str] = set()
        for pid in set().union(*(self.by_word.get(word, set()) for word in mine)) - exact:
            shorter = [theirs for theirs in self.names_of[pid] if mine <= set(theirs) or set(theirs) <= mine]
            if shorter:
                near.add(pid)
                if any(theirs[-1] == words[-1] for theirs in shorter):
                    near_surname.add(pid)
        initial = _initial_key(words)
        same_initial = set(self.by_initial.get(initial, ())) - exact - near if initial else set()
        return [(exact, exact), (near, near_surname), (same_initial, set())]

    def learn_teams(self, rows: Iterable[StatsRow], player_id: str) -> Counter[tuple[str, str]]:
        """Votes (stats team, transfer club) from the rows of one player matched on his own."""
        votes: Counter[tuple[str, str]] = Counter()
        for row in rows:
            for part in row.team.split(","):
                for year, club in self.clubs.get(player_id, ()):
                    if year == row.season:
                        votes[(fold(part), self.aliases.canonical(club))] += 1
        return votes

    def settle_teams(self, votes: Counter[tuple[str, str]]) -> None:
        """Keep a team alias when enough votes agree on the club."""
        by_team: dict[str, Counter[str]] = defaultdict(Counter)
        for (team, club), count in votes.items():
            by_team[team][club] += count
        self.teams = {}
        for team, clubs in by_team.items():
            (club, count), total = clubs.most_common(1)[0], sum(clubs.values())
            if count >= TEAM_ALIAS_MIN_VOTES and count >= TEAM_ALIAS_MIN_SHARE * total:
                self.teams[team] = club


def carried_clubs(moves: Sequence[TransferCompleted]) -> set[tuple[int, str]]:
    """(season, club): each move's buyer for the seasons after it, up to the player's next move
    (whose seller covers its season and the one before) or CAREER_END_AGE (his age unknown:
    up to the next move only); and the seller of his first move for the seasons before it,
    back to when he was CAREER_START_AGE (his age unknown: none)."""
    ordered = sorted(moves, key=lambda move: (move.season, move.transferred_at))
    out: set[tuple[int, str]] = set()
    first = ordered[0] if ordered else None
    if first is not None and first.age is not None:
        since = first.season - (first.age - CAREER_START_AGE)
        out.update((year, first.from_club) for year in range(since, first.season - 1))
    for i, move in enumerate(ordered):
        if i + 1 < len(ordered):
            until = ordered[i + 1].season - 2
        elif move.age is not None:
            until = move.season + CAREER_END_AGE - move.age
        else:
            continue
        out.update((year, move.to_club) for year in range(move.season + 2, until + 1))
    return out


def resolve_players(index: PlayerIndex, rows: Sequence[StatsRow]) -> dict[str, Resolution]:
    """Stats source id -> its resolution, for every source id in rows."""
    rows_of: dict[str, list[StatsRow]] = defaultdict(list)
    for row in rows:
        rows_of[row.source_id].append(row)
    namesakes: dict[tuple[str, ...], set[str]] = defaultdict(set)
    for source_id, own in rows_of.items():
        namesakes[name_key(person_words(own[0].player_name))].add(source_id)
    votes: Counter[tuple[str, str]] = Counter()
    for own in rows_of.values():
        pid = _alone(index, own, namesakes)
        if pid is not None:
            votes.update(index.learn_teams(own, pid))
    index.settle_teams(votes)
    return {source_id: _resolve(index, own, namesakes) for source_id, own in rows_of.items()}


def _alone(
    index: PlayerIndex, rows: list[StatsRow], namesakes: dict[tuple[str, ...], set[str]]
) -> str | None:
    """The player of the same words when he is the only one on both sides."""
    tiers = index.tiers(rows[0].player_name)
    exact = tiers[0][0] if tiers else set()
    if len(exact) == 1 and len(namesakes[name_key(person_words(rows[0].player_name))]) == 1:
        return next(iter(exact))
    return None


def _resolve(
    index: PlayerIndex, rows: list[StatsRow], namesakes: dict[tuple[str, ...], set[str]]
) -> Resolution:
    tiers = index.tiers(rows[0].player_name)
    if not any(found for found, _close in tiers):
        return Resolution("unmatched", reason="name not found")
    alone = _alone(index, rows, namesakes)
    if alone is not None:
        return Resolution("matched", alone)
    for found, close in tiers:
        for candidates, clubs in ((found, index.clubs), (close, index.carried)):
            resolution = _by_clubs(index, rows, candidates, clubs) if candidates else None
            if resolution is not None:
                return resolution
    if len(tiers[0][0]) > 1:
        return Resolution("ambiguous")
    return Resolution("unmatched", reason="club/season not found")


def _by_clubs(
    index: PlayerIndex, rows: list[StatsRow], found: set[str], clubs: ClubSeasons
) -> Resolution | None:
    """The unique best-scoring candidate, ambiguous on a tie, None when no club fits at all."""
    scores = {
        pid: sum(index.played_for(pid, row.season, row.team, clubs) for row in rows) for pid in sorted(found)
    }
    best = max(scores.values())
    if best == 0:
        return None
    winners = [pid for pid, score in scores.items() if score == best]
    if len(winners) > 1:
        return Resolution("ambiguous")
    return Resolution("matched", winners[0])
