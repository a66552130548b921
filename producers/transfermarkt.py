"""Transfermarkt CSV files -> chronological PlayerRecord and TransferCompleted events.

``read_transfers_csv`` is pure (files in, events out, no Kafka): the ingester publishes its
result, ``mlops-fc train --csv`` trains on it. What it does to the rows, in order:

1. parse each row (producers.csv_rows); rows that cannot be parsed are kept for the
   dead-letter topic with their raw text;
2. keep the chosen seasons, stop after ``max_rows`` rows read;
3. merge the in-row and out-row of one transfer and derive buyer, seller and their leagues
   (producers.dedupe);
4. give stable ids (producers.identity; learned from every season of the files, so that a
   seasons subset keeps the ids of the whole read) and event times (producers.timeline);
5. keep transfers with a real fee, paid or free (fee 0); count the others by reason:
   loans, loan fees, ends of loans, unknown or missing fees (producers.fees).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from producers.csv_rows import BadRow, CsvRow, read_rows
from producers.dedupe import Move, dedupe
from producers.fees import UNUSABLE_REASON
from producers.identity import PlayerIds, birth_year, stable_uuid, transfer_id
from producers.names import ClubAliases
from producers.timeline import hashed_fraction, time_in_window, window_order
from schemas.records import PlayerRecord, TransferCompleted

SOURCE = "producers.transfermarkt"
_FEE_PREFERENCE = ("paid", "free", "loan_fee", "loan", "end_of_loan", "unknown", "not_given", "draft")
SeasonRange = tuple[int, int]


@dataclass
class CsvReadResult:
    """What the files held: events in chronological order, and what was left out and why.

    ``players[i]`` is the player's record as of ``transfers[i]`` (same player, time, trace).
    Every row read is accounted for: ``rows_read == len(unparseable) + outside_seasons +
    duplicates_removed + sum(unusable.values()) + len(transfers)``.
    """

    transfers: list[TransferCompleted] = field(default_factory=list)
    players: list[PlayerRecord] = field(default_factory=list)
    unusable: Counter[str] = field(default_factory=Counter)
    unparseable: list[BadRow] = field(default_factory=list)
    rows_read: int = 0
    outside_seasons: int = 0
    duplicates_removed: int = 0
    ages_dropped: int = 0  # ages outside 15..45 in the file, published as unknown
    files: list[str] = field(default_factory=list)
    aliases: ClubAliases = field(default_factory=ClubAliases)  # learned by the dedupe

    def pairs(self) -> Iterator[tuple[PlayerRecord, TransferCompleted]]:
        """(record, transfer) per transfer, in publishing order."""
        return zip(self.players, self.transfers, strict=True)


def csv_files(paths: Iterable[Path | str]) -> list[Path]:
    """The files to read: each path itself, or the *.csv files of a folder, sorted."""
    files: list[Path] = []
    for path in map(Path, paths):
        files.extend(sorted(path.glob("*.csv")) if path.is_dir() else [path])
    return files


def read_transfers_csv(
    paths: Iterable[Path | str], seasons: SeasonRange | None = None, max_rows: int | None = None
) -> CsvReadResult:
    """Read Transfermarkt CSV files (or folders of them) into chronological events.

    ``seasons`` is an inclusive (first, last) range of season start years; ``max_rows``
    stops reading after that many data rows (in file order, before any filtering).
    """
    result = CsvReadResult()
    rows: list[CsvRow] = []
    elsewhere: list[CsvRow] = []  # rows of other seasons: read for the ids and aliases only
    for path in csv_files(paths):
        if max_rows is not None and result.rows_read >= max_rows:
            break
        result.files.append(str(path))
        for row in read_rows(path):
            if max_rows is not None and result.rows_read >= max_rows:
                break
            result.rows_read += 1
            if isinstance(row, BadRow):
                result.unparseable.append(row)
            elif seasons is not None and not seasons[0] <= row.season <= seasons[1]:
                result.outside_seasons += 1
                elsewhere.append(row)
            else:
                rows.append(row)
    # The dedupe, the club aliases and the player ids see every season of the files, so that
    # a `--seasons` subset keeps the ids of the whole read (a player's run of birth-year
    # estimates and a club's short names span seasons). A transfer's rows share its season.
    deduped = dedupe(rows + elsewhere)
    chosen = set(map(id, rows))
    moves = [move for move in deduped.moves if id(move.first) in chosen]
    result.duplicates_removed = len(rows) - len(moves)
    result.aliases = deduped.aliases
    ids = PlayerIds((move.player_name, birth_year(move.season, move.age)) for move in deduped.moves)
    same_transfer: dict[str, list[tuple[str, Move]]] = defaultdict(list)
    for move in moves:
        player_id = ids.player_id(move.player_name, birth_year(move.season, move.age))
        tid = transfer_id(player_id, move.season, move.window, move.seller, move.buyer)
        same_transfer[tid].append((player_id, move))
    usable: dict[str, tuple[str, Move]] = {}
    for tid, candidates in same_transfer.items():
        # One player, window and pair of clubs twice (rows the dedupe could not pair, such
        # as a fee on one side and "?" on the other): keep the most informative.
        player_id, move = min(candidates, key=lambda c: _FEE_PREFERENCE.index(c[1].fee.kind))
        result.duplicates_removed += len(candidates) - 1
        if move.fee.usable:
            usable[tid] = (player_id, move)
        else:
            result.unusable[UNUSABLE_REASON[move.fee.kind]] += 1
    times = _event_times(usable)
    chronological = sorted(
        usable, key=lambda t: (usable[t][1].season, window_order(usable[t][1].window), times[t], t)
    )
    for tid in chronological:
        player_id, move = usable[tid]
        record, transfer = _events(tid, player_id, move, times[tid])
        result.players.append(record)
        result.transfers.append(transfer)
        result.ages_dropped += any(row.age_dropped for row in move.rows) and move.age is None
    return result


def _event_times(usable: dict[str, tuple[str, Move]]) -> dict[str, datetime]:
    """A time per transfer from its id; one player's moves within a window follow the chain
    of clubs (A->B before B->C), whatever their hashes say."""
    times = {
        tid: time_in_window(move.season, move.window, hashed_fraction(tid))
        for tid, (_, move) in usable.items()
    }
    windows: dict[tuple[str, int, str], list[str]] = defaultdict(list)
    for tid, (player_id, move) in usable.items():
        windows[(player_id, move.season, move.window)].append(tid)
    for tids in windows.values():
        if len(tids) > 1:
            slots = sorted(times[tid] for tid in tids)
            for tid, moment in zip(_chain([(tid, usable[tid][1]) for tid in tids]), slots, strict=True):
                times[tid] = moment
    return times


def _chain(moves: Sequence[tuple[str, Move]]) -> list[str]:
    """Order one player's moves so that a move from a club comes after the move to it."""
    remaining = sorted(moves, key=lambda item: item[0])
    ordered: list[str] = []
    while remaining:
        buyers = {move.buyer for _, move in remaining}
        pick = next((item for item in remaining if item[1].seller not in buyers), remaining[0])
        remaining.remove(pick)
        ordered.append(pick[0])
    return ordered


def _events(tid: str, player_id: str, move: Move, at: datetime) -> tuple[PlayerRecord, TransferCompleted]:
    trace = str(stable_uuid("trace", tid))
    position = move.first.position
    record = PlayerRecord(
        event_id=stable_uuid("event", "PlayerRecord", tid),
        occurred_at=at,
        source=SOURCE,
        trace_id=trace,
        player_id=player_id,
        name=move.player_name,
        age=move.age,
        position=position,
        club=move.buyer,
        league=move.to_league,
        as_of=at,
    )
    transfer = TransferCompleted(
        event_id=stable_uuid("event", "TransferCompleted", tid),
        occurred_at=at,
        source=SOURCE,
        trace_id=trace,
        transfer_id=tid,
        player_id=player_id,
        player_name=move.player_name,
        age=move.age,
        position=position,
        from_club=move.seller,
        to_club=move.buyer,
        from_league=move.from_league,
        to_league=move.to_league,
        season=move.season,
        window=move.window,  # type: ignore[arg-type]
        transferred_at=at,
        fee_eur_m=move.fee.eur_m or 0.0,
    )
    return record, transfer


def parse_season_range(text: str) -> SeasonRange:
    """'2000-2012' -> (2000, 2012); '2015' -> (2015, 2015). Seasons are start years."""
    first, dash, last = text.strip().partition("-")
    try:
        start, end = int(first), int(last if dash else first)
    except ValueError:
        raise ValueError(f"season range {text!r} is not like 2000-2012 or 2015") from None
    if start > end:
        raise ValueError(f"season range {text!r} ends before it starts")
    return start, end
