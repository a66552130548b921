"""The synthetic generator's world: leagues, clubs in tiers, positions, and the fee model.

The generative model, all in log space of a fee in EUR millions::

    log fee = BASE_LOG_FEE + league level(buyer) + tier effect(buyer) + position effect
              + age curve(age) + QUALITY_WEIGHT * quality + INFLATION_PER_SEASON * (season - 2000)
              + log(drift fee inflation, from the drift season) + Normal(0, NOISE)

A transfer is free (fee 0) with a probability that grows with age after 29. Players have a
latent quality ~ Normal(0, QUALITY_SD) that also makes a top-tier buyer more likely. Every
number here is a plausible round figure, not fitted to real data.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from schemas.positions import Position

BASE_LOG_FEE = math.log(1.2)
QUALITY_SD = 0.6
QUALITY_WEIGHT = 1.0
INFLATION_PER_SEASON = 0.06
NOISE = 0.45
PEAK_AGE = 25.5
AGE_CURVE = 0.018  # log-fee lost per squared year away from the peak
MAX_FEE_EUR_M = 300.0


@dataclass(frozen=True)
class League:
    name: str
    country: str
    level: float  # log-fee offset of the league's market
    weight: float  # share of transfers bought into this league (before drift)


LEAGUES: tuple[League, ...] = (
    League("Atlantic Premier", "Avalon", 0.55, 0.26),
    League("Meridian Liga", "Castria", 0.35, 0.22),
    League("Alpine League", "Helvora", 0.20, 0.20),
    League("Coastal Serie", "Lusitra", 0.10, 0.18),
    League("Baltic Division", "Nordmark", -0.35, 0.14),
)
CLUBS_PER_TIER: dict[int, int] = {1: 4, 2: 6, 3: 8}
TIER_EFFECT: dict[int, float] = {1: 0.9, 2: 0.25, 3: -0.45}

POSITION_WEIGHTS: dict[Position, float] = {
    "Goalkeeper": 9, "Centre-Back": 16, "Left-Back": 7, "Right-Back": 7, "Defensive Midfield": 8,
    "Central Midfield": 11, "Attacking Midfield": 6, "Left Midfield": 2, "Right Midfield": 2,
    "Left Winger": 5, "Right Winger": 5, "Second Striker": 2, "Centre-Forward": 20,
}  # fmt: skip
POSITION_EFFECT: dict[Position, float] = {
    "Goalkeeper": -0.45, "Centre-Back": -0.05, "Left-Back": -0.2, "Right-Back": -0.2,
    "Defensive Midfield": 0.0, "Central Midfield": 0.05, "Attacking Midfield": 0.2, "Left Midfield": -0.1,
    "Right Midfield": -0.1, "Left Winger": 0.15, "Right Winger": 0.15, "Second Striker": 0.05,
    "Centre-Forward": 0.3,
}  # fmt: skip
NATIONALITIES: tuple[str, ...] = ("Avalon", "Castria", "Helvora", "Lusitra", "Nordmark", "Ostland", "Verano")

FIRST_NAMES: tuple[str, ...] = tuple(
    "Adrian Bruno Carlos Dario Emil Felix Gabriel Hugo Ivan Jonas Karim Lars Marco Nils Oscar Pablo "
    "Rafael Sami Tomas Umut Victor Willem Xavi Yannick Zoran Aleix Bastian Cedric Diego Enzo Fabio Goran "
    "Henrik Ilias Jamal Kevin Luca Mateo Niko Omar Pedro Quentin Ruben Sven Theo Ugo Vito Wout Yusuf".split()
)
LAST_NAMES: tuple[str, ...] = tuple(
    "Alvarez Berger Castillo Dalton Eriksen Ferreira Gallo Hansen Ibarra Jansen Kovac Laurent Moreau "
    "Novak Olsen Petrov Quaresma Rossi Santos Torres Ulrich Varga Weber Xhaka Young Zanetti Almeida "
    "Bianchi Costa Dubois Esposito Fischer Garcia Hoffmann Iglesias Jovanovic Keller Lindqvist Martins "
    "Nielsen Ortega Pereira Romano Schmidt Thomsen Vidal Wagner Yilmaz Ziegler".split()
)

_TOWNS = (
    "Ashford Brackwater Caldmoor Dunmere Elmstead Farrowby Glenhaven Harrowgate Ironbridge Juniper "
    "Kestrel Larkfield Marlow Northcliff Oakhurst Pennbrook Queensmere Ravenholt Saltmarsh Thornbury "
    "Umberleigh Valemont Westerly Yarrowdale Zennor Aldmoor Belcastle Corrin Drayford Eastwick "
    "Fenmouth Greyport Holloway Innisvale Kingsreach Lowell Merrow Newhythe Orford Pelham Redcliff "
    "Stonebury Tamsworth Upperton Vantry Whitmoor Amberley Blythe Carrow Deverel Estmere Fontaine "
    "Granvale Hollin Istria Jasper Kelso Lorwick Montval Navarre Orvale Palmora Quimper Rovena Sevra "
    "Tarrant Ulvik Verdale Wexley Ystad Zammerton Albury Bramley Cinder Dovecote Emberly Foxley Garrow "
    "Hexham Ilkley Jarrow Keswick Ludlow Malton Nelson Otley Penrith Ripon Selby Tadley Usk Wisley"
).split()
_SUFFIXES = ("United", "City", "Athletic", "Rovers", "FC", "Town", "Albion", "Wanderers", "Sporting", "Real")


@dataclass(frozen=True)
class Club:
    name: str
    league: League
    tier: int


def build_clubs(rng: random.Random) -> tuple[Club, ...]:
    """Clubs with unique names, CLUBS_PER_TIER of each tier in every league."""
    per_league = sum(CLUBS_PER_TIER.values())
    towns = rng.sample(_TOWNS, per_league * len(LEAGUES))
    clubs = []
    for i, league in enumerate(LEAGUES):
        names = towns[i * per_league : (i + 1) * per_league]
        tiers = [tier for tier, count in CLUBS_PER_TIER.items() for _ in range(count)]
        for town, tier in zip(names, tiers, strict=True):
            clubs.append(Club(f"{town} {rng.choice(_SUFFIXES)}", league, tier))
    return tuple(clubs)


def age_curve(age: int) -> float:
    """Log-fee offset of age: highest at PEAK_AGE, falling off quadratically."""
    return -AGE_CURVE * (age - PEAK_AGE) ** 2


def free_probability(age: int) -> float:
    """Chance that a move is a free transfer: contracts run out, older players more often."""
    return min(0.8, 0.18 + 0.06 * max(0, age - 29))


def log_fee(club: Club, position: Position, age: int, quality: float, season: int, inflation: float) -> float:
    """The mean log fee of the model above (without noise)."""
    return (
        BASE_LOG_FEE
        + club.league.level
        + TIER_EFFECT[club.tier]
        + POSITION_EFFECT[position]
        + age_curve(age)
        + QUALITY_WEIGHT * quality
        + INFLATION_PER_SEASON * (season - 2000)
        + math.log(inflation)
    )
