"""Pure updates (state, event) -> state: the one place feature state changes.

The worker and the retrainer's replay both call these, so serving and training see the
same state. Inputs are never modified; redelivered transfers (same transfer_id) are no-ops.

Free transfers (fee 0: free, loan or unknown fee in the source data) count as deals and
moves but stay out of the fee statistics: averaging log1p(0) with real prices would mix the
price level with the share of free deals, which the separate counts already tell the model.
"""

from __future__ import annotations

import math
from dataclasses import replace

from features.exceptions import StateMismatchError
from features.history import Deal, epoch, holds, insert_sorted, month_of
from features.state import (
    CLUB_DEALS_KEPT,
    CLUB_LEAGUES,
    MARKET_DEALS_KEPT,
    MARKET_MONTHS,
    PLAYER_MOVES_KEPT,
    PLAYER_SEASONS,
    PLAYER_SIGHTINGS,
    ClubState,
    LeagueSeen,
    MarketState,
    MonthBucket,
    PlayerState,
    SeasonLine,
    Sighting,
)
from schemas.records import PlayerRecord, TransferCompleted
from schemas.season_stats import PlayerSeasonStats

UNKNOWN_LEAGUE = "unknown"


def log_fee(fee_eur_m: float) -> float:
    """The fee scale of all features and of the label: log1p of millions of euros."""
    return math.log1p(fee_eur_m)


PlayerEvent = PlayerRecord | TransferCompleted | PlayerSeasonStats


def update_player(state: PlayerState | None, event: PlayerEvent) -> PlayerState:
    """The player's state after a record (age, position, club), a transfer (also a move) or
    a season's totals."""
    if state is None:
        state = PlayerState(player_id=event.player_id)
    elif state.player_id != event.player_id:
        raise StateMismatchError(f"event for {event.player_id!r} applied to player {state.player_id!r}")
    if isinstance(event, PlayerSeasonStats):
        seasons = add_season(state.seasons, season_line(event))
        return state if seasons is state.seasons else replace(state, seasons=seasons)
    if isinstance(event, PlayerRecord):
        sighting = Sighting(epoch(event.as_of), None, event.age, event.position, event.club)
        if sighting in state.sightings:
            return state
        return replace(state, sightings=insert_sorted(state.sightings, sighting, PLAYER_SIGHTINGS)[0])
    if state.paid_moves.has(event.transfer_id) or state.free_moves.has(event.transfer_id):
        return state
    at = epoch(event.transferred_at)
    sighting = Sighting(at, event.transfer_id, event.age, event.position, event.to_club)
    deal = Deal(at, event.transfer_id, log_fee(event.fee_eur_m))
    sightings = insert_sorted(state.sightings, sighting, PLAYER_SIGHTINGS)[0]
    paid, free = state.paid_moves, state.free_moves
    if event.fee_eur_m > 0:
        paid = paid.add(deal, PLAYER_MOVES_KEPT)
    else:
        free = free.add(deal, PLAYER_MOVES_KEPT)
    return PlayerState(state.player_id, sightings, paid, free, state.seasons)


def season_line(event: PlayerSeasonStats) -> SeasonLine:
    """What the state keeps of a season's totals."""
    return SeasonLine(
        epoch(event.known_at), event.season, event.team, event.games, event.minutes, event.goals,
        event.assists, event.xg, event.xa, event.shots, event.key_passes, event.xg_chain, event.league,
        event.npxg, event.xg_buildup,
        event.team_xg or 0.0, event.team_xa or 0.0, float(event.team_goals or 0),  # None: unknown, 0
    )  # fmt: skip


def add_season(lines: tuple[SeasonLine, ...], line: SeasonLine) -> tuple[SeasonLine, ...]:
    """Lines with this one in, replacing an earlier line of the same season and team (a
    re-ingest, perhaps corrected), ordered by time, season, team."""
    if line in lines:
        return lines  # redelivered
    kept = tuple(old for old in lines if (old.season, old.team) != (line.season, line.team))
    return tuple(sorted((*kept, line), key=lambda entry: (entry.known_at, entry.season, entry.team)))[
        -PLAYER_SEASONS:
    ]


def update_club(state: ClubState | None, event: TransferCompleted, club: str) -> ClubState:
    """The club's state after a transfer it bought (to_club) or sold (from_club) in, or both."""
    buyer, seller = club == event.to_club, club == event.from_club
    if not (buyer or seller):
        raise StateMismatchError(f"transfer {event.transfer_id!r} does not involve club {club!r}")
    if state is None:
        state = ClubState(club=club)
    elif state.club != club:
        raise StateMismatchError(f"update for club {club!r} applied to club {state.club!r}")
    tid = event.transfer_id
    buys = buyer and not (state.bought.has(tid) or state.bought_free.has(tid))
    sells = seller and not (state.sold.has(tid) or state.sold_free.has(tid))
    if not (buys or sells):
        return state  # redelivered
    at = epoch(event.transferred_at)
    deal = Deal(at, tid, log_fee(event.fee_eur_m))
    paid = event.fee_eur_m > 0
    bought, bought_free, sold, sold_free = state.bought, state.bought_free, state.sold, state.sold_free
    leagues = state.leagues
    if buys:
        if paid:
            bought = bought.add(deal, CLUB_DEALS_KEPT)
        else:
            bought_free = bought_free.add(deal, CLUB_DEALS_KEPT)
        leagues = _add_league(leagues, at, tid, event.to_league)
    if sells:
        if paid:
            sold = sold.add(deal, CLUB_DEALS_KEPT)
        else:
            sold_free = sold_free.add(deal, CLUB_DEALS_KEPT)
        leagues = _add_league(leagues, at, tid, event.from_league)
    return ClubState(club, bought, bought_free, sold, sold_free, leagues)


def update_market(state: MarketState | None, event: TransferCompleted) -> MarketState:
    """The market after a transfer: paid deals only, since it measures the price level.

    A redelivery is recognised among the league's latest MARKET_DEALS_KEPT deals; one older
    than that would be counted twice in its month (Kafka redelivers recent messages).
    """
    if state is None:
        state = MarketState()
    if event.fee_eur_m <= 0:
        return state
    league = event.to_league or event.from_league or UNKNOWN_LEAGUE
    deals = state.leagues.get(league, ())
    if holds(deals, event.transfer_id):
        return state
    at = epoch(event.transferred_at)
    fee = log_fee(event.fee_eur_m)
    kept = insert_sorted(deals, Deal(at, event.transfer_id, fee), MARKET_DEALS_KEPT)[0]
    buckets = _add_to_month(state.months.get(league, ()), at, fee)
    return MarketState(leagues={**state.leagues, league: kept}, months={**state.months, league: buckets})


def _add_league(
    leagues: tuple[LeagueSeen, ...], at: float, transfer_id: str, league: str | None
) -> tuple[LeagueSeen, ...]:
    if league is None:
        return leagues
    return insert_sorted(leagues, LeagueSeen(at, transfer_id, league), CLUB_LEAGUES)[0]


def _add_to_month(months: tuple[MonthBucket, ...], at: float, fee: float) -> tuple[MonthBucket, ...]:
    month = month_of(at)
    for i in range(len(months) - 1, -1, -1):  # newest first: most deals are recent
        bucket = months[i]
        if bucket.month == month:
            grown = MonthBucket(month, bucket.deals + 1, bucket.sum_log_fee + fee)
            return (*months[:i], grown, *months[i + 1 :])
    return insert_sorted(months, MonthBucket(month, 1, fee), MARKET_MONTHS)[0]
