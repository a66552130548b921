"""The worker's club statistics cache: same vectors as without it, forgotten when state changes."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from features.club_stats import ClubStatsCache, club_stats
from features.state import CLUB_DEALS_KEPT
from features.store import InMemoryFeatureStore
from features.vector import FEATURE_NAMES, vector, vector_matrix
from schemas.examples import example_of
from schemas.predictions import PredictionRequest
from schemas.records import TransferCompleted

T0 = datetime(2012, 7, 15, tzinfo=UTC)
CLUBS = [f"club-{i}" for i in range(6)]


def transfer(rng: random.Random, i: int) -> TransferCompleted:
    seller, buyer = rng.sample(CLUBS, 2)
    fields: dict[str, Any] = {
        "transfer_id": f"t{i}", "player_id": f"p{rng.randrange(40)}", "from_club": seller, "to_club": buyer,
        "from_league": "League A", "to_league": rng.choice(["League A", "League B"]),
        "fee_eur_m": rng.choice([0.0, rng.uniform(0.1, 80.0)]),
        "transferred_at": T0 + timedelta(days=rng.randrange(0, 2000)),
    }  # fmt: skip
    return example_of(TransferCompleted, **fields)


def request(rng: random.Random, i: int, transfer_ids: list[str]) -> PredictionRequest:
    seller, buyer = rng.sample(CLUBS, 2)
    fields: dict[str, Any] = {
        "request_id": f"r{i}", "player_id": f"p{rng.randrange(40)}", "from_club": seller, "to_club": buyer,
        "league": "League B", "requested_at": T0 + timedelta(days=rng.uniform(-10, 2100)),
        # some replayed (their own fee may be in the state already), most new questions
        "transfer_id": rng.choice(transfer_ids) if rng.random() < 0.3 else None,
    }  # fmt: skip
    return example_of(PredictionRequest, **fields)


def state(seed: int, transfers: int) -> tuple[InMemoryFeatureStore, list[str]]:
    rng = random.Random(seed)
    store = InMemoryFeatureStore()
    events = [transfer(rng, i) for i in range(transfers)]
    for event in events:
        store.apply(event)
    return store, [e.transfer_id for e in events]


def served(store: InMemoryFeatureStore, r: PredictionRequest, cache: ClubStatsCache) -> dict[str, float]:
    return vector(
        r,
        store.players.get(r.player_id),
        store.clubs.get(r.from_club),
        store.clubs.get(r.to_club),
        store.market,
        cache,
    )


def test_the_batch_vector_equals_vector_for_every_request() -> None:
    """Enough transfers that clubs cut old deals: counts of dropped deals are part of the cut."""
    store, ids = state(seed=3, transfers=4 * CLUB_DEALS_KEPT)
    rng = random.Random(4)
    requests = [request(rng, i, ids) for i in range(600)]
    cache = ClubStatsCache().at(("view", 1, "model", "1"))
    batch = [served(store, r, cache) for r in requests]
    for r, features in zip(requests, batch, strict=True):
        assert features == store.vector_for(r)  # the retrainer's path: no cache
    assert cache.hits > 0 and cache.misses > 0  # the cache was actually used, not bypassed
    # the matrix the model scores, built from the rows as they are, equals the one by name
    expected = np.array([[store.vector_for(r)[name] for name in FEATURE_NAMES] for r in requests])
    assert np.array_equal(vector_matrix(batch), expected)


def test_an_excluded_transfer_the_club_holds_is_never_served_from_the_cache() -> None:
    store, ids = state(seed=5, transfers=200)
    rng = random.Random(6)
    cache = ClubStatsCache().at(1)
    for i in range(300):
        r = request(rng, i, ids).model_copy(update={"transfer_id": rng.choice(ids)})
        assert served(store, r, cache) == store.vector_for(r)


def buys(count: int, start_day: int = 0) -> list[TransferCompleted]:
    return [
        example_of(
            TransferCompleted,
            transfer_id=f"b{start_day + i}",
            player_id=f"p{i}",
            from_club=f"seller-{i % 7}",
            to_club="Buyers FC",
            fee_eur_m=1.0 + (start_day + i) % 30,
            transferred_at=T0 + timedelta(days=start_day + i),
        )
        for i in range(count)
    ]


def test_a_new_view_version_forgets_the_cached_statistics() -> None:
    """A buyer at its cap: a new deal pushes the oldest out, the cut looks the same, the stats differ."""
    store = InMemoryFeatureStore()
    for event in buys(CLUB_DEALS_KEPT + 10):
        store.apply(event)
    r = example_of(
        PredictionRequest,
        request_id="r1",
        player_id="p1",
        from_club="seller-1",
        to_club="Buyers FC",
        requested_at=T0 + timedelta(days=5000),
        transfer_id=None,
    )
    cache = ClubStatsCache()
    before = served(store, r, cache.at(("view", 1, "model", "1")))
    assert before == store.vector_for(r)
    for event in buys(1, start_day=4000):  # a much dearer deal than the newest ones
        store.apply(event)
    stale = served(store, r, cache.at(("view", 1, "model", "1")))  # version not bumped
    assert stale == before != store.vector_for(r)  # what a missed invalidation would serve
    fresh = served(store, r, cache.at(("view", 2, "model", "1")))
    assert fresh == store.vector_for(r)


def test_a_new_model_version_empties_the_cache() -> None:
    store, ids = state(seed=9, transfers=50)
    cache = ClubStatsCache().at(("view", 50, "model", "1"))
    club = store.clubs[CLUBS[0]]
    cache.stats(club, T0.timestamp() + 1e9, None)
    assert len(cache) == 1
    assert len(cache.at(("view", 50, "model", "1"))) == 1  # same versions: kept
    assert len(cache.at(("view", 50, "model", "2"))) == 0  # a swap: forgotten


def test_the_cache_is_bounded() -> None:
    store, _ = state(seed=11, transfers=300)
    cache = ClubStatsCache(max_entries=10).at(1)
    club = store.clubs[CLUBS[1]]
    for day in range(0, 2000, 5):
        moment = (T0 + timedelta(days=day)).timestamp()
        assert cache.stats(club, moment, None) == club_stats(club, moment, None)
        assert len(cache) <= 10
