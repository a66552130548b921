"""Feature state per player, per club and for the market: frozen, bounded, JSON-able.

Every remembered fact carries the time it happened, so a vector can use only what happened
before a request (point in time), and the transfer id it came from, so a vector can ignore
the very transfer it is asked to price.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple, Self

from features.history import Deal, History

# Caps keep each state small: it lives in Kafka changelogs and worker memory.
# Statistics use the newest WINDOW deals before a request; the state keeps SLACK more, so a
# state that has already seen a few later deals (the request's own fee read first, or
# transfers read ahead from other partitions) gives exactly the vector the replay computed.
SLACK = 5
# Club state is shared by every request and lives in memory, not in a changelog: a worker
# whose request stream lags its transfer stream (a fast replay) sees many later deals per
# club, so clubs keep a much wider slack; it costs a few MB for all clubs of six leagues.
CLUB_SLACK = 200
CLUB_DEALS = 20  # window per club, per side (bought/sold), per kind (paid/free)
PLAYER_MOVES = 5  # window per player, per kind (paid/free)
CLUB_DEALS_KEPT = CLUB_DEALS + CLUB_SLACK
PLAYER_MOVES_KEPT = PLAYER_MOVES + SLACK
# Only the newest sighting or league before a request is read: keep one plus the slack.
PLAYER_SIGHTINGS = 1 + SLACK  # latest records of a player's age, position and club
CLUB_LEAGUES = 1 + SLACK  # latest leagues a club was seen in (promotion and relegation)
# The market level reads whole-month buckets, which bursts of same-time deals (a window
# replayed with one timestamp) cannot push out; the latest deals serve only to spot
# redeliveries and to take an excluded transfer back out of its bucket.
MARKET_MONTHS = 24  # monthly buckets per league (the trailing level reads 12)
MARKET_DEALS_KEPT = 50  # latest paid deals per league
# Season records are all kept (a decade of one player is a few dozen rows): a state that has
# read seasons far ahead of a request (stats ingested before the transfers) still holds the
# season that request may see, so the worker's vector equals the replay's.
PLAYER_SEASONS = 40


class Sighting(NamedTuple):
    """What a record or a transfer said about a player, and when."""

    at: float
    transfer_id: str | None  # None for a PlayerRecord
    age: int | None
    position: str
    club: str


class LeagueSeen(NamedTuple):
    """A league a club played in, as one transfer said."""

    at: float
    transfer_id: str
    league: str


class SeasonLine(NamedTuple):
    """A player's totals for one season at one team, and when they became known."""

    known_at: float
    season: int
    team: str
    games: int
    minutes: int
    goals: int
    assists: int
    xg: float
    xa: float
    shots: int
    key_passes: int
    xg_chain: float
    league: str = ""  # the stats source's league ("EPL"); "" in states kept before it was
    npxg: float = 0.0  # 0 in states kept before these two were
    xg_buildup: float = 0.0
    # The team's season totals (PlayerSeasonStats v2); 0 when unknown: a v1 event, a line of
    # two teams, or a state kept before them.
    team_xg: float = 0.0
    team_xa: float = 0.0
    team_goals: float = 0.0


class MonthBucket(NamedTuple):
    """Paid deals of one calendar month, all leagues together."""

    month: int  # year * 12 + month - 1
    deals: int
    sum_log_fee: float


@dataclass(frozen=True, slots=True)
class PlayerState:
    """A player's latest sightings and moves (free moves count as moves, not as fees) and
    his season records."""

    player_id: str
    sightings: tuple[Sighting, ...] = ()
    paid_moves: History = History()
    free_moves: History = History()
    seasons: tuple[SeasonLine, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict."""
        return {
            "player_id": self.player_id,
            "sightings": [list(s) for s in self.sightings],
            "paid_moves": self.paid_moves.to_dict(),
            "free_moves": self.free_moves.to_dict(),
            "seasons": [list(line) for line in self.seasons],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        """The inverse of to_dict."""
        return cls(
            player_id=data["player_id"],
            sightings=tuple(
                Sighting(float(at), tid, age, position, club)
                for at, tid, age, position, club in data.get("sightings", ())
            ),
            paid_moves=History.from_dict(data.get("paid_moves", {})),
            free_moves=History.from_dict(data.get("free_moves", {})),
            seasons=tuple(_season_line(row) for row in data.get("seasons", ())),
        )


@dataclass(frozen=True, slots=True)
class ClubState:
    """A club's latest deals as buyer and seller, paid and free kept apart, and its leagues."""

    club: str
    bought: History = History()
    bought_free: History = History()
    sold: History = History()
    sold_free: History = History()
    leagues: tuple[LeagueSeen, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict."""
        return {
            "club": self.club,
            "bought": self.bought.to_dict(),
            "bought_free": self.bought_free.to_dict(),
            "sold": self.sold.to_dict(),
            "sold_free": self.sold_free.to_dict(),
            "leagues": [list(seen) for seen in self.leagues],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        """The inverse of to_dict."""
        return cls(
            club=data["club"],
            bought=History.from_dict(data.get("bought", {})),
            bought_free=History.from_dict(data.get("bought_free", {})),
            sold=History.from_dict(data.get("sold", {})),
            sold_free=History.from_dict(data.get("sold_free", {})),
            leagues=tuple(LeagueSeen(float(at), tid, league) for at, tid, league in data.get("leagues", ())),
        )


@dataclass(frozen=True, slots=True)
class MarketState:
    """The price level per league: monthly buckets of paid deals, and the latest deals.

    The dicts are never mutated in place: updates build new ones (shallow copies).
    """

    leagues: dict[str, tuple[Deal, ...]] = field(default_factory=dict)
    months: dict[str, tuple[MonthBucket, ...]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict."""
        return {
            "leagues": {name: [list(deal) for deal in deals] for name, deals in self.leagues.items()},
            "months": {name: [list(bucket) for bucket in buckets] for name, buckets in self.months.items()},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        """The inverse of to_dict."""
        return cls(
            leagues={
                name: tuple(Deal(float(at), tid, float(fee)) for at, tid, fee in deals)
                for name, deals in data.get("leagues", {}).items()
            },
            months={
                name: tuple(MonthBucket(int(month), int(deals), float(total)) for month, deals, total in rows)
                for name, rows in data.get("months", {}).items()
            },
        )


def _season_line(row: list[Any]) -> SeasonLine:
    at, season, team, games, minutes, goals, assists, xg, xa, shots, key_passes, xg_chain, *rest = row
    return SeasonLine(
        float(at), int(season), str(team), int(games), int(minutes), int(goals), int(assists),
        float(xg), float(xa), int(shots), int(key_passes), float(xg_chain), str(rest[0]) if rest else "",
        *(float(value) for value in rest[1:6]),
    )  # fmt: skip
