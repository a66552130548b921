"""Feature vectors: stable names, finite values, and point in time."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest

from features.state import ClubState, PlayerState
from features.stats import DAYS_CAP
from features.store import InMemoryFeatureStore
from features.vector import FEATURE_NAMES, FILL_AGE, vector, vector_matrix
from schemas.examples import example_of
from schemas.predictions import PredictionRequest
from schemas.records import PlayerRecord, TransferCompleted

T0 = datetime(2012, 7, 15, tzinfo=UTC)


def transfer(tid: str, *, days: float = 0, fee: float = 10.0, **changes: Any) -> TransferCompleted:
    fields: dict[str, Any] = {
        "transfer_id": tid, "player_id": "p1", "from_club": "Sellers FC", "to_club": "Buyers FC",
        "from_league": "League A", "to_league": "League B", "fee_eur_m": fee,
        "transferred_at": T0 + timedelta(days=days),
    }  # fmt: skip
    return example_of(TransferCompleted, **{**fields, **changes})


def request(days: float = 0, **changes: Any) -> PredictionRequest:
    fields: dict[str, Any] = {
        "request_id": "r1", "player_id": "p1", "from_club": "Sellers FC", "to_club": "Buyers FC",
        "league": "League B", "requested_at": T0 + timedelta(days=days), "transfer_id": None,
    }  # fmt: skip
    return example_of(PredictionRequest, **{**fields, **changes})


def store_with(*events: PlayerRecord | TransferCompleted) -> InMemoryFeatureStore:
    store = InMemoryFeatureStore()
    for event in events:
        store.apply(event)
    return store


def assert_well_formed(features: dict[str, float]) -> None:
    assert tuple(features) == FEATURE_NAMES
    assert all(isinstance(value, float) and math.isfinite(value) for value in features.values())


def test_names_are_unique_and_vectors_well_formed() -> None:
    assert len(set(FEATURE_NAMES)) == len(FEATURE_NAMES)
    assert_well_formed(vector(request(), None, None, None, None))
    assert_well_formed(vector(request(age=None, league=None), None, None, None, None))
    history = [transfer(f"t{i}", days=-40 * i, fee=float(i % 3)) for i in range(1, 30)]
    assert_well_formed(store_with(*history).vector_for(request()))


def test_empty_state_gives_fills() -> None:
    features = vector(request(age=None), None, None, None, None)
    assert features["age"] == FILL_AGE and features["age_missing"] == 1.0
    assert features["to_club_days_since_deal"] == DAYS_CAP
    assert features["to_club_bought_paid"] == 0.0 and features["market_365d_deals"] == 0.0


def test_updates_at_or_after_requested_at_are_invisible() -> None:
    empty = store_with().vector_for(request())
    at_request = store_with(transfer("t1", days=0), transfer("t2", days=3, player_id="p1"))
    assert at_request.vector_for(request()) == empty
    seen = at_request.vector_for(request(days=0.001))
    assert seen["to_club_bought_paid"] == 1.0 and seen["from_club_sold_paid"] == 1.0
    assert seen["player_moves"] == 1.0 and seen["market_league_deals"] == 0.0  # whole months only
    assert at_request.vector_for(request(days=20))["market_league_deals"] == 2.0  # next month


def test_same_transfer_is_invisible_even_if_timestamped_earlier() -> None:
    # 60 days earlier: it sits in a whole-month bucket of the trailing market level too.
    store = store_with(transfer("t1", days=-60, age=30), transfer("t0", days=-400, player_id="p2"))
    leaky = store.vector_for(request(transfer_id="t1", age=None))
    assert leaky == store_with(transfer("t0", days=-400, player_id="p2")).vector_for(
        request(transfer_id="t1", age=None)
    )
    assert leaky["market_365d_deals"] == 0.0 and leaky["age_missing"] == 1.0
    other = store.vector_for(request(transfer_id="t9"))
    assert other["market_365d_deals"] == 1.0 and other["to_club_bought_paid"] == 2.0


def test_club_stats() -> None:
    fees = [1.0, 3.0, 0.0, 7.0]
    store = store_with(*(transfer(f"t{i}", days=-100 + 10 * i, fee=fee) for i, fee in enumerate(fees)))
    features = store.vector_for(request())
    logs = sorted(math.log1p(fee) for fee in fees if fee > 0)
    assert features["to_club_bought_paid"] == 3.0 and features["to_club_bought_free"] == 1.0
    assert features["to_club_bought_mean_log_fee"] == pytest.approx(sum(logs) / 3)
    assert features["to_club_bought_median_log_fee"] == pytest.approx(logs[1])
    assert features["to_club_bought_max_log_fee"] == pytest.approx(logs[-1])
    assert features["to_club_days_since_deal"] == pytest.approx(70.0)
    assert features["from_club_sold_paid"] == 3.0 and features["from_club_bought_paid"] == 0.0
    assert features["player_moves"] == 4.0 and features["player_paid_moves"] == 3.0
    assert features["player_last_log_fee"] == pytest.approx(math.log1p(7.0))


def test_counts_include_cut_history() -> None:
    store = store_with(*(transfer(f"t{i}", days=-1000 + i, player_id=f"p{i}") for i in range(50)))
    assert store.vector_for(request())["to_club_bought_paid"] == 50.0


def test_age_comes_from_the_request_or_the_latest_record() -> None:
    old = example_of(PlayerRecord, player_id="p1", age=20, as_of=T0 - timedelta(days=365.25))
    later = example_of(PlayerRecord, player_id="p1", age=33, as_of=T0 + timedelta(days=1))
    store = store_with(old, later)
    assert store.vector_for(request(age=None))["age"] == pytest.approx(21.0)
    assert store.vector_for(request(age=27))["age"] == 27.0


def test_positions() -> None:
    forward = vector(request(position="Centre-Forward"), None, None, None, None)
    assert (forward["pos_forward"], forward["pos_attacking"], forward["pos_coarse"]) == (1.0, 1.0, 0.0)
    coarse = vector(request(position="Defender"), None, None, None, None)
    assert (coarse["pos_defender"], coarse["pos_attacking"], coarse["pos_coarse"]) == (1.0, 0.0, 1.0)


def test_market_levels() -> None:
    store = store_with(
        transfer("old", days=-500, fee=50.0),  # outside the 12 whole months
        transfer("a", days=-100, fee=3.0),
        transfer("b", days=-20, fee=8.0, to_league="League C", from_league="League C"),
        transfer("now", days=-1, fee=20.0),  # same month as the request (July)
    )
    features = store.vector_for(request())
    assert features["market_365d_deals"] == 2.0
    assert features["market_365d_log_fee"] == pytest.approx((math.log1p(3.0) + math.log1p(8.0)) / 2)
    assert features["market_league_deals"] == 1.0  # League B: only "a" is in the window
    assert features["market_league_log_fee"] == pytest.approx(math.log1p(3.0))
    unknown = store.vector_for(request(league="League Z"))
    assert unknown["market_league_deals"] == 0.0
    assert unknown["market_league_log_fee"] == features["market_365d_log_fee"]


def test_league_falls_back_to_the_buyers_league() -> None:
    store = store_with(transfer("a", days=-30, to_league="League C", from_league="League A"))
    features = store.vector_for(request(league=None))
    assert features["market_league_deals"] == 1.0 and features["cross_league"] == 1.0
    same = store.vector_for(request(league="League A", to_club="Sellers FC", from_club="Sellers FC"))
    assert same["cross_league"] == 0.0


def test_vector_matrix_follows_feature_names() -> None:
    player, club = PlayerState("p1"), ClubState("a")
    vectors = [vector(request(season=2010 + i), player, club, None, None) for i in range(3)]
    matrix = vector_matrix(vectors)
    assert matrix.shape == (3, len(FEATURE_NAMES)) and matrix.dtype == np.float64
    assert list(matrix[:, FEATURE_NAMES.index("season_index")]) == [10.0, 11.0, 12.0]
    assert vector_matrix([]).shape == (0, len(FEATURE_NAMES))


def test_a_burst_of_same_time_deals_does_not_hide_the_market() -> None:
    """A window replayed with one timestamp: its deals are invisible to each other, not to later months."""
    june = [transfer(f"j{i}", days=-30, player_id=f"p{i}", to_club=f"c{i}") for i in range(80)]
    july = [transfer(f"k{i}", days=0, player_id=f"q{i}", to_club=f"d{i}") for i in range(80)]
    features = store_with(*june, *july).vector_for(request(transfer_id="k0"))
    assert features["market_league_deals"] == 80.0 and features["market_365d_deals"] == 80.0
