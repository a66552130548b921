"""Canonical playing positions and the mapping from the names found in the wild.

Transfermarkt uses thirteen fine positions plus coarse ones ("defence", "midfield",
"attack") for older or sparse entries; keeping the coarse ones as their own values, rather
than guessing a fine position, avoids inventing information.
"""

from __future__ import annotations

from typing import Literal, get_args

from schemas.exceptions import UnknownPositionError

Position = Literal[
    "Goalkeeper",
    "Centre-Back",
    "Left-Back",
    "Right-Back",
    "Defensive Midfield",
    "Central Midfield",
    "Attacking Midfield",
    "Left Midfield",
    "Right Midfield",
    "Left Winger",
    "Right Winger",
    "Second Striker",
    "Centre-Forward",
    "Defender",
    "Midfielder",
    "Forward",
]
PositionGroup = Literal["Goalkeeper", "Defender", "Midfielder", "Forward"]

POSITIONS: tuple[Position, ...] = get_args(Position)
COARSE_POSITIONS: tuple[Position, ...] = ("Defender", "Midfielder", "Forward")

_GROUPS: dict[Position, PositionGroup] = {
    "Goalkeeper": "Goalkeeper",
    "Centre-Back": "Defender",
    "Left-Back": "Defender",
    "Right-Back": "Defender",
    "Defender": "Defender",
    "Defensive Midfield": "Midfielder",
    "Central Midfield": "Midfielder",
    "Attacking Midfield": "Midfielder",
    "Left Midfield": "Midfielder",
    "Right Midfield": "Midfielder",
    "Midfielder": "Midfielder",
    "Left Winger": "Forward",
    "Right Winger": "Forward",
    "Second Striker": "Forward",
    "Centre-Forward": "Forward",
    "Forward": "Forward",
}

_ALIASES: dict[str, Position] = {
    # Transfermarkt's coarse names (both spellings, any case).
    "defence": "Defender",
    "defense": "Defender",
    "midfield": "Midfielder",
    "attack": "Forward",
    # A sweeper plays behind the centre-backs: the closest fine position.
    "sweeper": "Centre-Back",
    "libero": "Centre-Back",
    # US spellings and common abbreviations (generator, REST clients).
    "center back": "Centre-Back",
    "center forward": "Centre-Forward",
    "striker": "Centre-Forward",
    "keeper": "Goalkeeper",
    "defensive midfielder": "Defensive Midfield",
    "central midfielder": "Central Midfield",
    "attacking midfielder": "Attacking Midfield",
    "left midfielder": "Left Midfield",
    "right midfielder": "Right Midfield",
    "left wing": "Left Winger",
    "right wing": "Right Winger",
    "gk": "Goalkeeper",
    "cb": "Centre-Back",
    "lb": "Left-Back",
    "rb": "Right-Back",
    "dm": "Defensive Midfield",
    "cdm": "Defensive Midfield",
    "cm": "Central Midfield",
    "am": "Attacking Midfield",
    "cam": "Attacking Midfield",
    "lm": "Left Midfield",
    "rm": "Right Midfield",
    "lw": "Left Winger",
    "rw": "Right Winger",
    "ss": "Second Striker",
    "cf": "Centre-Forward",
    "st": "Centre-Forward",
}


def _lookup_key(raw: str) -> str:
    return " ".join(raw.replace("-", " ").replace("_", " ").split()).casefold()


_MAPPING: dict[str, Position] = {_lookup_key(p): p for p in POSITIONS} | _ALIASES


def normalise_position(raw: str) -> Position:
    """Map a raw position name (any case, hyphens or spaces) to the canonical set."""
    position = _MAPPING.get(_lookup_key(raw))
    if position is None:
        raise UnknownPositionError(
            f"unknown position {raw!r}: expected one of {', '.join(POSITIONS)} "
            "or an alias such as 'defence', 'midfield', 'attack', 'Sweeper', 'CB'"
        )
    return position


def position_group(position: Position) -> PositionGroup:
    """The coarse group (Goalkeeper, Defender, Midfielder, Forward) of a canonical position."""
    return _GROUPS[position]
