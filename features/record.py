"""The player's record as features: his last two completed seasons strictly before a request.

A season's line becomes visible at its known_at (the end of that season), so a summer
request sees the season just finished and a winter request still the one before: a
season's totals are never visible inside it. A player who changed clubs mid-season has
one line per team; they are summed.

Per-90 rates of few minutes are noise (one goal in 60 minutes is 1.5 a game), so the
output rates are shrunk toward the position's typical rate (SHRINK_MINUTES of it are
added to what the player did); "the season before" is the one just before the last, and
the trend is the change of the shrunk xG+xA rate between the two.

The team of the newest season (the one he played most minutes for) says how strong his
side was and how much of its attack was his: its xG and goals per game, and his share of its
xG+xA and of its xG, from the team totals the stats event carries (PlayerSeasonStats v2).
"""

from __future__ import annotations

from collections.abc import Sequence

from features.history import before
from features.state import PlayerState, SeasonLine

PER_90 = ("goals", "assists", "xg", "xa", "shots", "key_passes", "xg_chain", "npxg", "xg_buildup")
TEAM_FEATURES = ("record_team_xg_pg", "record_team_goals_pg", "record_team_share", "record_team_xg_share")
RECORD_FEATURES: tuple[str, ...] = (
    "has_record", "record_seasons_ago", "record_minutes", "record_games",
    *(f"record_{name}_p90" for name in PER_90),
    "record_xgxa_p90", "record_prev_minutes", "record_prev_xgxa_p90", "record_two_xgxa_p90",
    "record_xgxa_trend", "record_minutes_trend", "record_career_minutes", "record_career_seasons",
    "record_minutes_per_game", "record_two_xg_chain_p90",
    "record_minutes_share", "record_xgxa_share", "record_young_minutes",
    *(f"record_league_{name.lower()}" for name in ("EPL", "La_Liga", "Bundesliga", "Serie_A", "Ligue_1")),
    *TEAM_FEATURES,
)  # fmt: skip
NO_RECORD_GAP = 10.0  # "no record" reads like a record long ago, flagged by has_record = 0
SHRINK_MINUTES = 1800.0  # twenty full games of the position's typical rate
# Minutes-weighted per-90 rates of the big five leagues (Understat): the priors. The first
# seven from 2014-2024; npxG and xGBuildup (added later) from 2014/15 alone, a season before
# any that bench/records.py judges.
POSITION_P90: dict[str | None, dict[str, float]] = {
    "Goalkeeper": dict(zip(PER_90, (0.0, 0.002, 0.0, 0.002, 0.002, 0.024, 0.10, 0.0, 0.07), strict=True)),
    "Defender": dict(zip(PER_90, (0.05, 0.06, 0.057, 0.063, 0.64, 0.6, 0.28, 0.044, 0.167), strict=True)),
    "Midfielder": dict(zip(PER_90, (0.10, 0.10, 0.10, 0.106, 1.24, 1.13, 0.39, 0.096, 0.225), strict=True)),
    "Forward": dict(zip(PER_90, (0.32, 0.15, 0.325, 0.157, 2.38, 1.35, 0.53, 0.271, 0.155), strict=True)),
}  # fmt: skip
POSITION_P90[None] = POSITION_P90["Midfielder"]  # position unknown: the middle of the pitch
# Under-23: football's usual age bracket for young players (not fitted to any season).
YOUNG_AGE = 23.0
_EMPTY = {name: 0.0 for name in RECORD_FEATURES} | {"record_seasons_ago": NO_RECORD_GAP}


def last_seasons(
    player: PlayerState | None, moment: float
) -> tuple[tuple[SeasonLine, ...], tuple[SeasonLine, ...]]:
    """The lines (one per team) of the newest season known strictly before `moment`, and of
    the season just before that one (empty when he has no line for it)."""
    if player is None or not player.seasons:
        return (), ()
    visible = before(player.seasons, moment, None)
    if not visible:
        return (), ()
    newest = max(line.season for line in visible)
    return (
        tuple(line for line in visible if line.season == newest),
        tuple(line for line in visible if line.season == newest - 1),
    )


def shrunk_p90(total: float, minutes: float, prior: float) -> float:
    """A per-90 rate with SHRINK_MINUTES of the prior rate added."""
    return 90.0 * (total + prior * SHRINK_MINUTES / 90.0) / (minutes + SHRINK_MINUTES)


def _sum(lines: Sequence[SeasonLine], name: str) -> float:
    return float(sum(getattr(line, name) for line in lines))


def league_games(league: str, season: int) -> float:
    """Games of a team in a league season: 18-team leagues play 34 (Ligue 1 from 2023/24)."""
    return 34.0 if league == "Bundesliga" or (league == "Ligue_1" and season >= 2023) else 38.0


def record_features(
    player: PlayerState | None,
    moment: float,
    season: int,
    position: str | None = None,
    age: float | None = None,
) -> dict[str, float]:
    """The RECORD_FEATURES of a request at `moment` in `season` (its start year), for a
    player of `position` (Goalkeeper, Defender, Midfielder, Forward or None) aged `age`."""
    last, prev = last_seasons(player, moment)
    if not last:
        return dict(_EMPTY)
    prior = POSITION_P90.get(position, POSITION_P90[None])
    prior_xgxa = prior["xg"] + prior["xa"]
    minutes, prev_minutes = _sum(last, "minutes"), _sum(prev, "minutes")
    out = {
        "has_record": 1.0,
        "record_seasons_ago": float(min(max(season - last[0].season, 0), NO_RECORD_GAP)),
        "record_minutes": minutes,
        "record_games": _sum(last, "games"),
    }
    for name in PER_90:
        out[f"record_{name}_p90"] = shrunk_p90(_sum(last, name), minutes, prior[name])
    xgxa, prev_xgxa = _sum(last, "xg") + _sum(last, "xa"), _sum(prev, "xg") + _sum(prev, "xa")
    out["record_xgxa_p90"] = shrunk_p90(xgxa, minutes, prior_xgxa)
    out["record_prev_minutes"] = prev_minutes
    out["record_prev_xgxa_p90"] = shrunk_p90(prev_xgxa, prev_minutes, prior_xgxa)
    out["record_two_xgxa_p90"] = shrunk_p90(xgxa + prev_xgxa, minutes + prev_minutes, prior_xgxa)
    out["record_xgxa_trend"] = out["record_xgxa_p90"] - out["record_prev_xgxa_p90"] if prev else 0.0
    out["record_minutes_trend"] = minutes - prev_minutes if prev else 0.0
    games = out["record_games"]
    out["record_minutes_per_game"] = minutes / games if games > 0 else 0.0
    out["record_two_xg_chain_p90"] = shrunk_p90(
        _sum(last, "xg_chain") + _sum(prev, "xg_chain"), minutes + prev_minutes, prior["xg_chain"]
    )
    main = max(last, key=lambda line: (line.minutes, line.team))  # the team he played most for
    for name in ("EPL", "La_Liga", "Bundesliga", "Serie_A", "Ligue_1"):
        out[f"record_league_{name.lower()}"] = float(main.league == name)
    # His share of his team's league minutes, the output rate weighted by it (a regular's
    # rate says more than a substitute's), and the minutes of a player under YOUNG_AGE:
    # playing time at 21 is rarer, and priced higher, than at 29.
    out["record_minutes_share"] = minutes / (90.0 * league_games(main.league, main.season))
    out["record_xgxa_share"] = out["record_xgxa_p90"] * out["record_minutes_share"]
    out["record_young_minutes"] = minutes if age is not None and age < YOUNG_AGE else 0.0
    out.update(team_features(main))
    visible = before(player.seasons, moment, None) if player is not None else ()
    out["record_career_minutes"] = _sum(visible, "minutes")
    out["record_career_seasons"] = float(len({line.season for line in visible}))
    return {name: out[name] for name in RECORD_FEATURES}


def team_features(main: SeasonLine) -> dict[str, float]:
    """How strong the team he played most for was (its xG and goals per game) and his share
    of its xG+xA and of its xG; all 0 when the team's totals are unknown (team_xg 0)."""
    if main.team_xg <= 0:
        return dict.fromkeys(TEAM_FEATURES, 0.0)
    games = league_games(main.league, main.season)
    return {
        "record_team_xg_pg": main.team_xg / games,
        "record_team_goals_pg": main.team_goals / games,
        "record_team_share": (main.xg + main.xa) / max(main.team_xg + main.team_xa, 1.0),
        "record_team_xg_share": main.xg / max(main.team_xg, 1.0),
    }
