"""Read Understat season files (the format of data/player-stats/*.csv) into typed rows.

Like the transfers reader (producers.csv_rows), a row that cannot be parsed becomes a BadRow
with its raw bytes, for the dead-letter topic; a file without the expected header is refused.
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from producers.csv_rows import BadRow, _LineFeed
from producers.exceptions import CsvFormatError

INT_COLUMNS: tuple[str, ...] = (
    "games", "time", "goals", "assists", "npg", "shots", "key_passes", "yellow_cards", "red_cards",
)  # fmt: skip
FLOAT_COLUMNS: tuple[str, ...] = ("xG", "xA", "npxG", "xGChain", "xGBuildup")
REQUIRED_COLUMNS: tuple[str, ...] = (
    "id", "player_name", "team_title", "league", "season", "primary_position",
    *INT_COLUMNS, *FLOAT_COLUMNS,
)  # fmt: skip
POSITIONS = {"G": "Goalkeeper", "GK": "Goalkeeper", "D": "Defender", "M": "Midfielder", "F": "Forward"}
SUBSTITUTE = "S"  # Understat's code for "came on as a substitute": not a position
_SEASON = re.compile(r"(?P<start>\d{4})/(?P<end>\d{2})")


@dataclass(frozen=True, slots=True)
class StatsRow:
    """One player's totals for one season at one team, as the file has them."""

    path: str
    line: int
    raw: bytes
    source_id: str  # the stats source's own player id
    player_name: str
    team: str
    league: str
    season: int
    position: str | None  # None: the source only says "substitute"
    counts: dict[str, int]
    amounts: dict[str, float]


class _RowError(ValueError):
    pass


def read_stats_rows(path: Path | str) -> Iterator[StatsRow | BadRow]:
    """Every data row of one file, in file order; CsvFormatError if the header is wrong."""
    path = Path(path)
    feed = _LineFeed(path.read_bytes().splitlines(keepends=True))
    reader = csv.reader(feed)
    try:
        header = next(reader)
    except StopIteration:
        raise CsvFormatError(f"{path}: empty file, expected a header line") from None
    columns = {name.strip().lstrip("\ufeff"): i for i, name in enumerate(header)}
    missing = [name for name in REQUIRED_COLUMNS if name not in columns]
    if missing:
        raise CsvFormatError(f"{path}: not an Understat season file, missing column(s) {missing}")
    feed.take()
    for fields in reader:
        line, raw, bad_encoding = feed.take()
        if not fields or (len(fields) == 1 and not fields[0].strip()):
            continue
        if bad_encoding:
            yield BadRow(str(path), line, raw, "not valid UTF-8")
        elif len(fields) != len(header):
            yield BadRow(str(path), line, raw, f"expected {len(header)} fields, got {len(fields)}")
        else:
            try:
                yield _parse(str(path), line, raw, {name: fields[i] for name, i in columns.items()})
            except _RowError as exc:
                yield BadRow(str(path), line, raw, str(exc))


def _parse(path: str, line: int, raw: bytes, cell: dict[str, str]) -> StatsRow:
    def text(name: str) -> str:
        value = " ".join(cell[name].split())
        if not value:
            raise _RowError(f"{name} is empty")
        return value

    position = _position(text("primary_position"), cell.get("position", ""))
    return StatsRow(
        path=path,
        line=line,
        raw=raw,
        source_id=text("id"),
        player_name=text("player_name"),
        team=text("team_title"),
        league=text("league"),
        season=_season(text("season")),
        position=position,
        counts={name: _count(name, cell[name]) for name in INT_COLUMNS},
        amounts={name: _amount(name, cell[name]) for name in FLOAT_COLUMNS},
    )


def _position(primary: str, codes: str) -> str | None:
    """The first real position code of primary_position, then of position ("D M S" -> D)."""
    for code in (*primary.upper().split(), *codes.upper().split()):
        if code in POSITIONS:
            return POSITIONS[code]
        if code != SUBSTITUTE:
            raise _RowError(f"position code {code!r} is not one of GK, D, M, F, S")
    return None


def _season(value: str) -> int:
    match = _SEASON.fullmatch(value)
    if match is None or int(match["end"]) != (int(match["start"]) + 1) % 100:
        raise _RowError(f"season {value!r} is not like 2014/15")
    return int(match["start"])


def _count(name: str, value: str) -> int:
    value = value.strip()
    if not value.isdigit():
        raise _RowError(f"{name} {value!r} is not a whole number >= 0")
    return int(value)


def _amount(name: str, value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise _RowError(f"{name} {value!r} is not a number") from None
    if not math.isfinite(number) or number < 0:
        raise _RowError(f"{name} {value!r} is not a finite number >= 0")
    return number
