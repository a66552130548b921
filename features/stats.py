"""Point-in-time readers of feature state: each uses only entries strictly before the
request's time (`moment`) and never the excluded transfer (the one a request is pricing)."""

from __future__ import annotations

from operator import itemgetter

from features.history import SECONDS_PER_DAY, Deal, before, holds, month_of
from features.state import CLUB_DEALS, ClubState, MarketState, MonthBucket, PlayerState

DAYS_CAP = 3650.0  # "no deal in ten years" and "never" look the same to a fee model
TRAILING_MONTHS = 12
_SECONDS_PER_YEAR = 365.25 * SECONDS_PER_DAY
_LOG_FEE = itemgetter(2)  # Deal.log_fee, read in C
MIN_AGE, MAX_AGE = 15.0, 45.0


def fee_summary(visible: tuple[Deal, ...], dropped: int) -> tuple[float, float, float, float]:
    """(count, mean, median, max) of paid deals: the count of all visible and older cut
    deals, the fee statistics over the newest CLUB_DEALS visible ones."""
    count = float(len(visible) + dropped)
    fees = sorted(map(_LOG_FEE, visible[-CLUB_DEALS:]))
    if not fees:
        return count, 0.0, 0.0, 0.0
    n = len(fees)
    middle = fees[n // 2] if n % 2 else (fees[n // 2 - 1] + fees[n // 2]) / 2
    return count, sum(fees) / n, middle, fees[-1]


def latest_at(*visibles: tuple[Deal, ...]) -> float | None:
    """The time of the newest deal across visible histories (each oldest first), if any."""
    return max((visible[-1].at for visible in visibles if visible), default=None)


def days_since(moment: float, at: float | None) -> float:
    """Days from `at` to the request, capped; the cap when there was nothing."""
    if at is None:
        return DAYS_CAP
    return min(max((moment - at) / SECONDS_PER_DAY, 0.0), DAYS_CAP)


def club_league(club: ClubState | None, moment: float, exclude: str | None) -> str | None:
    """The league a club was last seen in before the request."""
    if club is None:
        return None
    visible = before(club.leagues, moment, exclude)
    return visible[-1].league if visible else None


def player_age(player: PlayerState | None, moment: float, exclude: str | None) -> float | None:
    """The age from the newest sighting that has one, aged by the time elapsed since."""
    if player is None:
        return None
    for seen in reversed(before(player.sightings, moment, exclude)):
        if seen.age is not None:
            age = seen.age + (moment - seen.at) / _SECONDS_PER_YEAR
            return min(max(age, MIN_AGE), MAX_AGE)
    return None


def market_levels(
    market: MarketState | None, league: str, moment: float, exclude: str | None
) -> tuple[float, float, float, float]:
    """(league mean log fee, league deals, all-leagues mean log fee, all-leagues deals) over
    the 12 whole months before the request's month.

    Whole months end before the request, so a bucket never holds a later deal; the excluded
    transfer is taken back out if a bucket holds it (it was timestamped months earlier).
    """
    if market is None:
        return 0.0, 0.0, 0.0, 0.0
    current = month_of(moment)
    first = current - TRAILING_MONTHS
    league_deals, league_total, all_deals, all_total = 0, 0.0, 0, 0.0
    for name, buckets in market.months.items():
        deals, total = _window(buckets, first, current)
        if exclude is not None and deals and holds(market.leagues.get(name, ()), exclude):
            found = next(deal for deal in market.leagues[name] if deal.transfer_id == exclude)
            if first <= month_of(found.at) < current:
                deals, total = deals - 1, total - found.log_fee
        all_deals, all_total = all_deals + deals, all_total + total
        if name == league:
            league_deals, league_total = deals, total
    return (
        league_total / league_deals if league_deals > 0 else 0.0,
        float(league_deals),
        all_total / all_deals if all_deals > 0 else 0.0,
        float(all_deals),
    )


def _window(buckets: tuple[MonthBucket, ...], first: int, current: int) -> tuple[int, float]:
    deals, total = 0, 0.0
    for bucket in reversed(buckets):  # newest first: stop at the first month before the window
        if bucket.month < first:
            break
        if bucket.month < current:
            deals += bucket.deals
            total += bucket.sum_log_fee
    return deals, total
