"""Synthetic players and transfers: the default data when no CSV is at hand.

The world (producers.synthetic_world) has leagues of clubs in three tiers. A pool of players
(age, position, latent quality, current club) ages each season; old players retire and
youngsters join. Each season has ``per_season`` transfers, about 70% in the summer window.
A transfer picks a player (ages weighted around 25), a buyer (league by the league mix, tier
by the player's quality) and a fee from the log-normal model. Everything comes from one
``random.Random(seed)``: the same seed gives the same events, ids, uuids and times.

Drift (``DriftSpec``) changes the world from a season on: fees are multiplied by an
inflation factor, the transferred players' ages shift, and part of the league mix moves
to one league: the shifts a drift monitor should notice.
"""

from __future__ import annotations

import itertools
import math
import random
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from producers.synthetic_world import (
    FIRST_NAMES,
    LAST_NAMES,
    LEAGUES,
    MAX_FEE_EUR_M,
    NATIONALITIES,
    NOISE,
    POSITION_WEIGHTS,
    QUALITY_SD,
    Club,
    build_clubs,
    free_probability,
    log_fee,
)
from producers.timeline import time_in_window
from schemas.fields import Window
from schemas.positions import Position
from schemas.records import PlayerRecord, TransferCompleted

SOURCE = "producers.synthetic"
SUMMER_SHARE = 0.7
AGE_FOCUS, AGE_SPREAD = 25.0, 4.0
RETIRE_AGE = 36
POOL_PER_TRANSFER = 3  # players in the pool per transfer of a season


@dataclass(frozen=True)
class DriftSpec:
    """How the world changes from ``from_season`` on (inclusive)."""

    from_season: int
    fee_inflation: float = 1.6  # fees multiplied by this
    age_shift: float = 2.0  # years added to the age the transferred players centre on
    league_shift: float = 0.3  # share of the league mix moved to ``league``
    league: str = LEAGUES[-1].name

    def __post_init__(self) -> None:
        if self.fee_inflation <= 0:
            raise ValueError("fee_inflation must be positive")
        if not 0 <= self.league_shift <= 1:
            raise ValueError("league_shift must be within 0..1")
        if self.league not in {league.name for league in LEAGUES}:
            raise ValueError(f"unknown league {self.league!r}: one of {[lg.name for lg in LEAGUES]}")

    def active(self, season: int) -> bool:
        return season >= self.from_season


@dataclass
class _Player:
    player_id: str
    name: str
    birth_year: int
    position: Position
    quality: float
    nationality: str
    club: Club
    moves: int = 0


@dataclass
class _World:
    rng: random.Random
    seed: int
    clubs: tuple[Club, ...]
    players: list[_Player] = field(default_factory=list)
    age_weights: list[float] = field(default_factory=list)  # cumulative, per season and drift
    next_player: int = 0
    next_transfer: int = 0


def generate(
    seed: int, seasons: Iterable[int], per_season: int, drift: DriftSpec | None = None
) -> Iterator[PlayerRecord | TransferCompleted]:
    """PlayerRecord then TransferCompleted per transfer, in chronological order."""
    seasons = sorted(seasons)
    if per_season < 1 or not seasons:
        return
    world = _World(random.Random(seed), seed, ())  # noqa: S311 - reproducible, not secret
    world.clubs = build_clubs(world.rng)
    for season in seasons:
        active = drift if drift and drift.active(season) else None
        _new_season(world, season, per_season, active)
        summer = sum(world.rng.random() < SUMMER_SHARE for _ in range(per_season))
        windows: tuple[tuple[Window, int], ...] = (("summer", summer), ("winter", per_season - summer))
        for window, count in windows:
            fractions = sorted(world.rng.random() for _ in range(count))
            for fraction in fractions:
                at = time_in_window(season, window, fraction)
                yield from _transfer(world, season, window, at, active)


def _new_season(world: _World, season: int, per_season: int, drift: DriftSpec | None) -> None:
    world.players = [p for p in world.players if season - p.birth_year <= RETIRE_AGE]
    target = per_season * POOL_PER_TRANSFER
    first = not world.players
    while len(world.players) < target:
        # The first pool spans all ages; later, youngsters come through.
        age = world.rng.randint(17, 33) if first else world.rng.randint(17, 19)
        world.players.append(_new_player(world, season - age))
    # Who gets transferred: ages weighted around AGE_FOCUS (shifted by drift).
    focus = AGE_FOCUS + (drift.age_shift if drift else 0.0)
    ages = (season - p.birth_year for p in world.players)
    weights = [math.exp(-((age - focus) ** 2) / (2 * AGE_SPREAD**2)) for age in ages]
    world.age_weights = list(itertools.accumulate(weights))


def _new_player(world: _World, birth_year: int) -> _Player:
    rng = world.rng
    world.next_player += 1
    positions = list(POSITION_WEIGHTS)
    return _Player(
        player_id=f"syn{world.seed}-p{world.next_player:06d}",
        name=f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
        birth_year=birth_year,
        position=rng.choices(positions, weights=[POSITION_WEIGHTS[p] for p in positions])[0],
        quality=rng.gauss(0.0, QUALITY_SD),
        nationality=rng.choice(NATIONALITIES),
        club=rng.choice(world.clubs),
    )


def _pick_player(world: _World) -> _Player:
    return world.rng.choices(world.players, cum_weights=world.age_weights)[0]


def _pick_buyer(world: _World, player: _Player, drift: DriftSpec | None) -> Club:
    rng = world.rng
    weights = [league.weight for league in LEAGUES]
    if drift and drift.league_shift:
        weights = [
            w * (1 - drift.league_shift) + (drift.league_shift if lg.name == drift.league else 0.0)
            for w, lg in zip(weights, LEAGUES, strict=True)
        ]
    league = rng.choices(LEAGUES, weights=weights)[0]
    # Better players go to higher tiers: tier t is chosen with weight exp(-quality * (t - 2)).
    candidates = [c for c in world.clubs if c.league is league and c is not player.club]
    tier_weights = [math.exp(-2.0 * player.quality * (c.tier - 2)) for c in candidates]
    return rng.choices(candidates, weights=tier_weights)[0]


def _transfer(
    world: _World, season: int, window: Window, at: datetime, drift: DriftSpec | None
) -> Iterator[PlayerRecord | TransferCompleted]:
    rng = world.rng
    player = _pick_player(world)
    buyer = _pick_buyer(world, player, drift)
    seller = player.club
    age = season - player.birth_year
    if rng.random() < free_probability(age):
        fee = 0.0
    else:
        inflation = drift.fee_inflation if drift else 1.0
        mean = log_fee(buyer, player.position, age, player.quality, season, inflation)
        fee = round(min(MAX_FEE_EUR_M, max(0.01, math.exp(rng.gauss(mean, NOISE)))), 2)
    world.next_transfer += 1
    trace = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    record_id = uuid.UUID(int=rng.getrandbits(128), version=4)
    transfer_id = uuid.UUID(int=rng.getrandbits(128), version=4)
    player.club, player.moves = buyer, player.moves + 1
    yield PlayerRecord(
        event_id=record_id, occurred_at=at, source=SOURCE, trace_id=trace,
        player_id=player.player_id, name=player.name, age=age, position=player.position,
        club=buyer.name, league=buyer.league.name, nationality=player.nationality, as_of=at,
    )  # fmt: skip
    yield TransferCompleted(
        event_id=transfer_id, occurred_at=at, source=SOURCE, trace_id=trace,
        transfer_id=f"syn{world.seed}-t{world.next_transfer:07d}", player_id=player.player_id,
        player_name=player.name, age=age, position=player.position, from_club=seller.name,
        to_club=buyer.name, from_league=seller.league.name, to_league=buyer.league.name,
        season=season, window=window, transferred_at=at, fee_eur_m=fee,
    )  # fmt: skip
