"""Understat season files -> PlayerSeasonStats events, resolved to the transfer players.

``read_stats`` is pure (files in, events out): rows are parsed (producers.stats_rows),
resolved to the player ids of the transfer files read alongside (producers.stats_match) and
returned in time order, i.e. by the moment each season's totals became known. Every row read
is accounted for: ``rows_read == len(unparseable) + matched + ambiguous + unmatched``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from producers.csv_rows import BadRow
from producers.identity import stable_uuid
from producers.stats_match import PlayerIndex, resolve_players
from producers.stats_rows import StatsRow, read_stats_rows
from producers.transfermarkt import csv_files, read_transfers_csv
from schemas.season_stats import PlayerSeasonStats, season_end

SOURCE = "producers.stats"


@dataclass
class StatsReadResult:
    events: list[PlayerSeasonStats] = field(default_factory=list)
    unparseable: list[BadRow] = field(default_factory=list)
    rows_read: int = 0
    matched: int = 0
    ambiguous: int = 0
    unmatched: int = 0
    unmatched_reasons: Counter[str] = field(default_factory=Counter)  # rows: "name not found", ...
    players_matched: int = 0
    files: list[str] = field(default_factory=list)


def read_stats(
    paths: Iterable[Path | str], transfer_paths: Iterable[Path | str], max_rows: int | None = None
) -> StatsReadResult:
    """Read season files (or folders of them) and resolve them against transfer files."""
    transfers = read_transfers_csv(transfer_paths)
    index = PlayerIndex.build(transfers.transfers, transfers.aliases)
    return resolve_stats(paths, index, max_rows)


def resolve_stats(
    paths: Iterable[Path | str], index: PlayerIndex, max_rows: int | None = None
) -> StatsReadResult:
    """Read season files and resolve them with a ready index (see read_stats)."""
    result = StatsReadResult()
    rows: list[StatsRow] = []
    for path in csv_files(paths):
        result.files.append(str(path))
        for row in read_stats_rows(path):
            if max_rows is not None and result.rows_read >= max_rows:
                break
            result.rows_read += 1
            if isinstance(row, BadRow):
                result.unparseable.append(row)
            else:
                rows.append(row)
    resolved = resolve_players(index, rows)
    totals = team_totals(rows)
    result.players_matched = len({r.player_id for r in resolved.values() if r.player_id is not None})
    for row in rows:
        resolution = resolved[row.source_id]
        if resolution.player_id is None:
            if resolution.outcome == "ambiguous":
                result.ambiguous += 1
            else:
                result.unmatched += 1
                result.unmatched_reasons[resolution.reason] += 1
            continue
        result.matched += 1
        result.events.append(stats_event(row, resolution.player_id, totals.get(team_key(row))))
    result.events.sort(key=lambda e: (e.known_at, e.season, e.player_id, e.team))
    return result


TeamTotals = tuple[float, float, int]  # xG, xA, goals


def team_key(row: StatsRow) -> tuple[int, str, str]:
    return row.season, row.league, row.team


def team_totals(rows: Iterable[StatsRow]) -> dict[tuple[int, str, str], TeamTotals]:
    """Each team's season totals (xG, xA, goals) summed over the rows read, matched or not.

    A row of two teams ("Monaco,Paris Saint Germain": a mid-season move, one line for both)
    cannot be split between them: it adds to neither, and has no team totals itself.
    """
    sums: dict[tuple[int, str, str], list[float]] = {}
    for row in rows:
        if "," in row.team:
            continue
        total = sums.setdefault(team_key(row), [0.0, 0.0, 0.0])
        total[0] += row.amounts["xG"]
        total[1] += row.amounts["xA"]
        total[2] += row.counts["goals"]
    return {key: (round(xg, 4), round(xa, 4), int(goals)) for key, (xg, xa, goals) in sums.items()}


def stats_event(row: StatsRow, player_id: str, team: TeamTotals | None = None) -> PlayerSeasonStats:
    """The event of one resolved row, with its team's totals when known; its ids depend
    only on player, season and team."""
    known_at = season_end(row.season)
    counts, amounts = row.counts, row.amounts
    return PlayerSeasonStats(
        event_id=stable_uuid("event", "PlayerSeasonStats", player_id, row.season, row.team),
        occurred_at=known_at,
        source=SOURCE,
        trace_id=str(stable_uuid("trace", "stats", player_id, row.season, row.team)),
        player_id=player_id,
        player_name=row.player_name,
        season=row.season,
        league=row.league,
        team=row.team,
        position=row.position,  # type: ignore[arg-type]
        games=counts["games"],
        minutes=counts["time"],
        goals=counts["goals"],
        assists=counts["assists"],
        npg=counts["npg"],
        xg=amounts["xG"],
        xa=amounts["xA"],
        npxg=amounts["npxG"],
        shots=counts["shots"],
        key_passes=counts["key_passes"],
        xg_chain=amounts["xGChain"],
        xg_buildup=amounts["xGBuildup"],
        yellow_cards=counts["yellow_cards"],
        red_cards=counts["red_cards"],
        known_at=known_at,
        team_xg=None if team is None else team[0],
        team_xa=None if team is None else team[1],
        team_goals=None if team is None else team[2],
    )
