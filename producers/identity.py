"""Stable ids: the same input gives the same player ids, transfer ids, event ids and traces.

Transfermarkt rows carry a player's name and age but no id or birth date. A player is a
name plus an estimated birth year (season minus age); the estimate wobbles by a year with
the birthday, so estimates of one name that form a run of consecutive years are one player
and a gap of two or more years starts another (two namesakes). A row without an age joins
the name's only player, or a player of its own when the name has several.
"""

from __future__ import annotations

import hashlib
import uuid
from collections import defaultdict
from collections.abc import Iterable

from producers.names import fold

NAMESPACE = "mlops-fc"


def digest(*parts: object) -> str:
    """A hex digest of the parts: the root of every derived id."""
    text = "\x1f".join(map(str, (NAMESPACE, *parts)))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def stable_uuid(*parts: object) -> uuid.UUID:
    """A version-4-shaped UUID derived from the parts: event ids and trace ids."""
    return uuid.UUID(hex=digest(*parts)[:32], version=4)


class PlayerIds:
    """Assigns player ids from (name, estimated birth year) sightings."""

    def __init__(self, sightings: Iterable[tuple[str, int | None]]) -> None:
        years: dict[str, set[int]] = defaultdict(set)
        self._names: set[str] = set()
        for name, birth_year in sightings:
            key = fold(name)
            self._names.add(key)
            if birth_year is not None:
                years[key].add(birth_year)
        # name -> birth year -> the first year of its run of consecutive years
        self._anchor: dict[str, dict[int, int]] = {}
        for key, found in years.items():
            anchors: dict[int, int] = {}
            start = previous = None
            for year in sorted(found):
                if previous is None or year - previous > 1:
                    start = year
                anchors[year] = start  # type: ignore[assignment]
                previous = year
            self._anchor[key] = anchors

    def player_id(self, name: str, birth_year: int | None) -> str:
        """The id of the player called ``name`` born about ``birth_year``."""
        key = fold(name)
        anchors = self._anchor.get(key, {})
        if birth_year is not None and birth_year in anchors:
            anchor: object = anchors[birth_year]
        elif birth_year is None and len(set(anchors.values())) == 1:
            anchor = next(iter(anchors.values()))
        else:
            anchor = "?" if birth_year is None else birth_year
        return "p-" + digest("player", key, anchor)[:16]


def birth_year(season: int, age: int | None) -> int | None:
    """The birth year a row suggests (within a year: the age is taken once per season)."""
    return None if age is None else season - age


def transfer_id(player_id: str, season: int, window: str, seller: str, buyer: str) -> str:
    """One id per player, window and pair of clubs: re-ingesting gives the same id."""
    return "t-" + digest("transfer", player_id, season, window, fold(seller), fold(buyer))[:16]
