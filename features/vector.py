"""(state, request) -> feature vector: the only way features are read, online and in replay.

Every value is a finite float. Missing facts are filled (0, a typical age, or a day cap)
and flagged by an indicator or a count of zero, never NaN.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from features.club_stats import ClubStatsCache, club_stats
from features.history import epoch
from features.record import RECORD_FEATURES, record_features
from features.state import PLAYER_MOVES, ClubState, MarketState, PlayerState
from features.stats import (
    DAYS_CAP,
    club_league,
    days_since,
    latest_at,
    market_levels,
    player_age,
)
from features.update import UNKNOWN_LEAGUE
from schemas.positions import position_group
from schemas.predictions import PredictionRequest

FILL_AGE = 25.0  # a typical transfer age: a neutral fill for linear models too
SEASON_ORIGIN = 2000
_ATTACKING = frozenset(
    {"Attacking Midfield", "Left Winger", "Right Winger", "Second Striker", "Centre-Forward", "Forward"}
)
_COARSE = frozenset({"Defender", "Midfielder", "Forward"})

_CLUB_STATS = (
    "bought_paid", "bought_free", "bought_mean_log_fee", "bought_median_log_fee", "bought_max_log_fee",
    "sold_paid", "sold_free", "sold_mean_log_fee", "sold_median_log_fee", "sold_max_log_fee",
    "days_since_deal",
)  # fmt: skip

FEATURE_NAMES: tuple[str, ...] = (
    "age", "age_missing",
    "pos_goalkeeper", "pos_defender", "pos_midfielder", "pos_forward", "pos_attacking", "pos_coarse",
    "season_index", "window_summer",
    "player_moves", "player_paid_moves", "player_last_log_fee", "player_max_log_fee",
    "player_days_since_move",
    *(f"to_club_{name}" for name in _CLUB_STATS),
    *(f"from_club_{name}" for name in _CLUB_STATS),
    "market_league_log_fee", "market_league_deals", "market_365d_log_fee", "market_365d_deals",
    "cross_league",
    *RECORD_FEATURES,
)  # fmt: skip


def vector(
    request: PredictionRequest,
    player: PlayerState | None,
    from_club: ClubState | None,
    to_club: ClubState | None,
    market: MarketState | None,
    clubs: ClubStatsCache | None = None,
) -> dict[str, float]:
    """The feature vector of a request, from what the state knew strictly before requested_at.

    ``clubs`` (the worker's, per batch) shares club statistics between requests that see the
    same deals; the vector is the same with or without it.
    """
    before = epoch(request.requested_at)
    exclude = request.transfer_id
    age = float(request.age) if request.age is not None else player_age(player, before, exclude)
    group = position_group(request.position)
    out: dict[str, float] = {
        "age": FILL_AGE if age is None else age,
        "age_missing": 1.0 if age is None else 0.0,
        "pos_goalkeeper": float(group == "Goalkeeper"),
        "pos_defender": float(group == "Defender"),
        "pos_midfielder": float(group == "Midfielder"),
        "pos_forward": float(group == "Forward"),
        "pos_attacking": float(request.position in _ATTACKING),
        "pos_coarse": float(request.position in _COARSE),
        "season_index": float(request.season - SEASON_ORIGIN),
        "window_summer": float(request.window == "summer"),
    }
    out.update(_player(player, before, exclude))
    out.update(_club("to_club", to_club, before, exclude, clubs))
    out.update(_club("from_club", from_club, before, exclude, clubs))
    league = request.league or club_league(to_club, before, exclude)
    level, deals, overall, overall_deals = market_levels(market, league or UNKNOWN_LEAGUE, before, exclude)
    from_league = club_league(from_club, before, exclude)
    out["market_league_log_fee"] = level if deals else overall  # a new league: the overall level
    out["market_league_deals"] = deals
    out["market_365d_log_fee"] = overall
    out["market_365d_deals"] = overall_deals
    out["cross_league"] = float(league is not None and from_league is not None and league != from_league)
    out.update(record_features(player, before, request.season, group, age))
    return out


def vector_matrix(vectors: Sequence[dict[str, float]]) -> np.ndarray:
    """Vectors as a float64 matrix, columns in FEATURE_NAMES order."""
    if not vectors:
        return np.empty((0, len(FEATURE_NAMES)), dtype=np.float64)
    if all(tuple(v) == FEATURE_NAMES for v in vectors):  # as vector() builds them: rows as they are
        return np.array([list(v.values()) for v in vectors], dtype=np.float64)
    return np.array([[v[name] for name in FEATURE_NAMES] for v in vectors], dtype=np.float64)


def _player(player: PlayerState | None, before: float, exclude: str | None) -> dict[str, float]:
    if player is None:
        return {
            "player_moves": 0.0, "player_paid_moves": 0.0, "player_last_log_fee": 0.0,
            "player_max_log_fee": 0.0, "player_days_since_move": days_since(before, None),
        }  # fmt: skip
    paid = player.paid_moves.visible(before, exclude)
    free = player.free_moves.visible(before, exclude)
    paid_count = float(len(paid) + player.paid_moves.dropped_before(before))
    free_count = float(len(free) + player.free_moves.dropped_before(before))
    return {
        "player_moves": paid_count + free_count,
        "player_paid_moves": paid_count,
        "player_last_log_fee": paid[-1].log_fee if paid else 0.0,
        "player_max_log_fee": max((d.log_fee for d in paid[-PLAYER_MOVES:]), default=0.0),
        "player_days_since_move": days_since(before, latest_at(paid, free)),
    }


_CLUB_NAMES = {
    prefix: tuple(f"{prefix}_{name}" for name in _CLUB_STATS) for prefix in ("to_club", "from_club")
}


def _club(
    prefix: str, club: ClubState | None, before: float, exclude: str | None, cache: ClubStatsCache | None
) -> dict[str, float]:
    names = _CLUB_NAMES[prefix]
    if club is None:
        return dict(zip(names, [0.0] * (len(names) - 1) + [DAYS_CAP], strict=True))
    found = club_stats(club, before, exclude) if cache is None else cache.stats(club, before, exclude)
    values, latest = found
    return dict(zip(names, (*values, days_since(before, latest)), strict=True))
