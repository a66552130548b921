"""One move per transfer: match the "in" row at the buyer with the "out" row at the seller.

A transfer between two clubs that are both in the files read appears twice, once in each
club's list, with the other club under a short name. Rows are candidates for one transfer
when player name, season, window and fee agree and the ages differ by at most a year; a
candidate pair is accepted when at least one side names the other club (a learned alias or
a similar name). "Released to Without Club" and "signed from Without Club" in one window are
two moves and stay two. Identical rows of one club are dropped as duplicates too.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from producers.csv_rows import CsvRow
from producers.fees import Fee
from producers.names import ClubAliases, fold, looks_like

MAX_AGE_GAP = 1


@dataclass(frozen=True, slots=True)
class Move:
    """One transfer after dedupe: who moved, between which clubs, in which window, for what."""

    rows: tuple[CsvRow, ...]  # the rows it came from: one, or the in-row and the out-row
    player_name: str
    age: int | None
    season: int
    window: str
    fee: Fee
    buyer: str
    seller: str
    to_league: str | None
    from_league: str | None

    @property
    def first(self) -> CsvRow:
        return self.rows[0]


@dataclass(frozen=True)
class DedupeResult:
    moves: list[Move]
    duplicates: int  # rows dropped: the second row of matched pairs and identical rows
    aliases: ClubAliases


def dedupe(rows: Sequence[CsvRow]) -> DedupeResult:
    """Merge the two rows of each transfer and derive buyer, seller and their leagues."""
    groups: dict[tuple[str, int, str, str, float | None], list[CsvRow]] = defaultdict(list)
    for row in rows:
        groups[(fold(row.player_name), row.season, row.window, row.fee.kind, row.fee.eur_m)].append(row)
    duplicates = 0
    distinct: list[list[CsvRow]] = []
    for group in groups.values():
        kept = _drop_identical(group)
        duplicates += len(group) - len(kept)
        distinct.append(kept)

    aliases = ClubAliases()
    # First pass with name similarity only: it teaches the aliases ("Spurs") for the second.
    for group in distinct:
        for row_in, row_out in _pairs(group, looks_like):
            aliases.vote(row_in.involved, row_out.club)
            aliases.vote(row_out.involved, row_in.club)
    aliases.settle()

    leagues = _league_table(rows)
    moves: list[Move] = []
    for group in distinct:
        paired: set[int] = set()
        for row_in, row_out in _pairs(group, aliases.same):
            paired.update((id(row_in), id(row_out)))
            duplicates += 1
            moves.append(_move((row_in, row_out), row_out.club, row_in.club, row_out.league, row_in.league))
        for row in group:
            if id(row) in paired:
                continue
            other = aliases.canonical(row.involved)
            other_league = leagues.get((row.season, fold(other)))
            if row.movement == "in":
                moves.append(_move((row,), other, row.club, other_league, row.league))
            else:
                moves.append(_move((row,), row.club, other, row.league, other_league))
    moves.sort(key=lambda m: (m.first.path, m.first.line))
    return DedupeResult(moves, duplicates, aliases)


def _drop_identical(group: list[CsvRow]) -> list[CsvRow]:
    seen: set[tuple[str, str, str]] = set()
    kept = []
    for row in group:
        key = (row.movement, fold(row.club), fold(row.involved))
        if key not in seen:
            seen.add(key)
            kept.append(row)
    return kept


def _pairs(group: list[CsvRow], same: Callable[[str, str], bool]) -> list[tuple[CsvRow, CsvRow]]:
    """Greedy matching in file order: each in-row takes the best unused out-row."""
    ins = [row for row in group if row.movement == "in"]
    outs = [row for row in group if row.movement == "out"]
    if not ins or not outs:
        return []
    pairs = []
    used: set[int] = set()
    for row_in in ins:
        best: tuple[int, int, int] | None = None
        for i, row_out in enumerate(outs):
            if i in used or fold(row_in.club) == fold(row_out.club) or not _ages_agree(row_in, row_out):
                continue
            score = same(row_in.involved, row_out.club) + same(row_out.involved, row_in.club)
            if score == 0:
                continue
            gap = abs(row_in.age - row_out.age) if row_in.age is not None and row_out.age is not None else 0
            candidate = (-score, gap, i)
            if best is None or candidate < best:
                best = candidate
        if best is not None:
            used.add(best[2])
            pairs.append((row_in, outs[best[2]]))
    return pairs


def _ages_agree(a: CsvRow, b: CsvRow) -> bool:
    return a.age is None or b.age is None or abs(a.age - b.age) <= MAX_AGE_GAP


def _league_table(rows: Sequence[CsvRow]) -> dict[tuple[int, str], str]:
    """(season, folded club) -> the league whose file lists the club that season."""
    table: dict[tuple[int, str], str] = {}
    for row in rows:
        table.setdefault((row.season, fold(row.club)), row.league)
    return table


def _move(
    rows: tuple[CsvRow, ...], seller: str, buyer: str, from_league: str | None, to_league: str | None
) -> Move:
    first = rows[0]
    age = next((row.age for row in rows if row.age is not None), None)
    return Move(
        rows=rows,
        player_name=first.player_name,
        age=age,
        season=first.season,
        window=first.window,
        fee=first.fee,
        buyer=buyer,
        seller=seller,
        to_league=to_league,
        from_league=from_league,
    )
