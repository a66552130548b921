"""The player's record as features: his last completed season strictly before a request.

A season's line becomes visible at its known_at (the end of that season), so a summer
request sees the season just finished and a winter request still the one before: a
season's totals are never visible inside it. A player who changed clubs mid-season has
one line per team; they are summed.
"""

from __future__ import annotations

from features.history import before
from features.state import PlayerState, SeasonLine

PER_90 = ("goals", "assists", "xg", "xa", "shots", "key_passes", "xg_chain")
RECORD_FEATURES: tuple[str, ...] = (
    "has_record", "record_seasons_ago", "record_minutes", "record_games",
    *(f"record_{name}_p90" for name in PER_90),
)  # fmt: skip
NO_RECORD_GAP = 10.0  # "no record" reads like a record long ago, flagged by has_record = 0
_EMPTY = {name: 0.0 for name in RECORD_FEATURES} | {"record_seasons_ago": NO_RECORD_GAP}


def last_season(player: PlayerState | None, moment: float) -> tuple[SeasonLine, ...]:
    """The lines of the newest season known strictly before `moment` (one per team)."""
    if player is None or not player.seasons:
        return ()
    visible = before(player.seasons, moment, None)
    if not visible:
        return ()
    newest = max(line.season for line in visible)
    return tuple(line for line in visible if line.season == newest)


def record_features(player: PlayerState | None, moment: float, season: int) -> dict[str, float]:
    """The RECORD_FEATURES of a request at `moment` in `season` (its start year)."""
    lines = last_season(player, moment)
    if not lines:
        return dict(_EMPTY)
    minutes = float(sum(line.minutes for line in lines))
    out = {
        "has_record": 1.0,
        "record_seasons_ago": float(min(max(season - lines[0].season, 0), NO_RECORD_GAP)),
        "record_minutes": minutes,
        "record_games": float(sum(line.games for line in lines)),
    }
    for name in PER_90:
        total = float(sum(getattr(line, name) for line in lines))
        out[f"record_{name}_p90"] = 90.0 * total / minutes if minutes > 0 else 0.0
    return out
