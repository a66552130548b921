"""Read Transfermarkt CSV files into typed rows, keeping each row's raw bytes.

A row that cannot be parsed at all (wrong number of fields, bad UTF-8, an unknown position,
an unreadable season or fee) becomes a BadRow: it goes to the dead-letter topic with its raw
text. Parsing is strict about structure and lenient about plausibility: an age outside the
schema's range is dropped (the field is optional), not a reason to lose the transfer.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

from producers.exceptions import CsvFormatError
from producers.fees import Fee, FeeParseError, agrees_with_cleaned, parse_fee
from schemas.exceptions import UnknownPositionError
from schemas.positions import Position, normalise_position

Movement = Literal["in", "out"]
WindowName = Literal["summer", "winter"]

REQUIRED_COLUMNS: tuple[str, ...] = (
    "club_name",
    "player_name",
    "age",
    "position",
    "club_involved_name",
    "fee",
    "transfer_movement",
    "transfer_period",
    "league_name",
    "season",
)
OPTIONAL_COLUMNS: tuple[str, ...] = ("fee_cleaned", "year", "country")
MIN_AGE, MAX_AGE = 15, 45  # schemas.fields.Age
_SEASON = re.compile(r"(?P<start>\d{4})\s*(?:[/-]\s*(?P<end>\d{2}|\d{4}))?")


@dataclass(frozen=True, slots=True)
class CsvRow:
    """One parsed row: one club's side (in or out) of one player's move."""

    path: str
    line: int
    club: str
    involved: str
    player_name: str
    age: int | None
    age_dropped: bool  # the file had an age, outside MIN_AGE..MAX_AGE
    position: Position
    movement: Movement
    window: WindowName
    season: int
    league: str
    country: str | None
    fee: Fee


@dataclass(frozen=True, slots=True)
class BadRow:
    """A row that could not be parsed: its raw bytes, where it was, and why."""

    path: str
    line: int
    raw: bytes
    reason: str


class _RowError(ValueError):
    pass


def read_rows(path: Path | str) -> Iterator[CsvRow | BadRow]:
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
        raise CsvFormatError(f"{path}: not a Transfermarkt transfers file, missing column(s) {missing}")
    feed.take()
    for fields in reader:
        line, raw, bad_encoding = feed.take()
        if not fields or (len(fields) == 1 and not fields[0].strip()):
            continue  # blank line
        if bad_encoding:
            yield BadRow(str(path), line, raw, "not valid UTF-8")
            continue
        if len(fields) != len(header):
            yield BadRow(str(path), line, raw, f"expected {len(header)} fields, got {len(fields)}")
            continue
        try:
            yield _parse(str(path), line, {name: fields[i] for name, i in columns.items()})
        except _RowError as exc:
            yield BadRow(str(path), line, raw, str(exc))


def _parse(path: str, line: int, cell: dict[str, str]) -> CsvRow:
    def text(name: str) -> str:
        value = _squeeze(cell[name])
        if not value:
            raise _RowError(f"{name} is empty")
        return value

    position = _position(text("position"))
    fee = _fee(cell["fee"])
    if not agrees_with_cleaned(fee, cell.get("fee_cleaned")):
        raise _RowError(f"fee {cell['fee']!r} disagrees with fee_cleaned {cell.get('fee_cleaned')!r}")
    age, age_dropped = _age(cell["age"])
    country = _squeeze(cell.get("country", "")) or None
    return CsvRow(
        path=path,
        line=line,
        club=text("club_name"),
        involved=text("club_involved_name"),
        player_name=text("player_name"),
        age=age,
        age_dropped=age_dropped,
        position=position,
        movement=_choice(text("transfer_movement"), "transfer_movement", ("in", "out")),  # type: ignore[arg-type]
        window=_choice(text("transfer_period"), "transfer_period", ("summer", "winter")),  # type: ignore[arg-type]
        season=_season(cell["season"], cell.get("year")),
        league=text("league_name"),
        country=None if country in (None, "NA") else country,
        fee=fee,
    )


def _squeeze(value: str) -> str:
    value = value.strip()
    return " ".join(value.split()) if "  " in value or "\t" in value else value


# Rows repeat the same positions, fees and seasons: parse each distinct text once.
@lru_cache(maxsize=4096)
def _position(value: str) -> Position:
    try:
        return normalise_position(value)
    except UnknownPositionError as exc:
        raise _RowError(str(exc)) from exc


@lru_cache(maxsize=65536)
def _fee(value: str) -> Fee:
    try:
        return parse_fee(value)
    except FeeParseError as exc:
        raise _RowError(str(exc)) from exc


def _choice(value: str, name: str, allowed: tuple[str, ...]) -> str:
    folded = value.casefold()
    if folded not in allowed:
        raise _RowError(f"{name} {value!r} is not one of {', '.join(allowed)}")
    return folded


def _age(value: str) -> tuple[int | None, bool]:
    value = value.strip()
    if value.upper() in ("", "NA", "-", "?"):
        return None, False
    if not value.isdigit():
        raise _RowError(f"age {value!r} is not a whole number")
    age = int(value)
    return (age, False) if MIN_AGE <= age <= MAX_AGE else (None, True)


@lru_cache(maxsize=4096)
def _season(value: str, year: str | None) -> int:
    match = _SEASON.fullmatch(value.strip())
    if match is None:
        raise _RowError(f"season {value!r} is not like 2012/2013")
    start = int(match["start"])
    end = match["end"]
    if end is not None and int(end) % 100 != (start + 1) % 100:
        raise _RowError(f"season {value!r} does not span two consecutive years")
    if year and year.strip().isdigit() and int(year) != start:
        raise _RowError(f"season {value!r} does not start in year {year!r}")
    if not 1900 <= start <= 2100:
        raise _RowError(f"season {value!r} is out of range")
    return start


class _LineFeed:
    """Feeds decoded lines to csv.reader and remembers the raw bytes of the current record."""

    def __init__(self, lines: list[bytes]) -> None:
        self._lines = iter(lines)
        self._line = 0
        self._first = 0
        self._raw: list[bytes] = []
        self._bad = False

    def __iter__(self) -> _LineFeed:
        return self

    def __next__(self) -> str:
        raw = next(self._lines)
        self._line += 1
        if not self._raw:
            self._first = self._line
        self._raw.append(raw)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            self._bad = True
            return raw.decode("utf-8", "replace")

    def take(self) -> tuple[int, bytes, bool]:
        """(first line number, raw bytes, had bad UTF-8) of the record just read; resets."""
        taken = (self._first, b"".join(self._raw).rstrip(b"\r\n"), self._bad)
        self._raw, self._bad = [], False
        return taken
