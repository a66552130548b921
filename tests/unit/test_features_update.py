"""Feature state updates: pure, bounded, idempotent, JSON round trip."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from features.exceptions import StateMismatchError
from features.state import (
    CLUB_DEALS_KEPT,
    MARKET_DEALS_KEPT,
    MARKET_MONTHS,
    PLAYER_MOVES_KEPT,
    PLAYER_SIGHTINGS,
    ClubState,
    MarketState,
    PlayerState,
)
from features.update import update_club, update_market, update_player
from schemas.examples import example_of
from schemas.records import PlayerRecord, TransferCompleted

T0 = datetime(2012, 7, 1, tzinfo=UTC)


def transfer(tid: str, *, days: float = 0, fee: float = 10.0, **changes: Any) -> TransferCompleted:
    fields: dict[str, Any] = {
        "transfer_id": tid, "player_id": "p1", "from_club": "Sellers FC", "to_club": "Buyers FC",
        "from_league": "League A", "to_league": "League B", "fee_eur_m": fee,
        "transferred_at": T0 + timedelta(days=days),
    }  # fmt: skip
    return example_of(TransferCompleted, **{**fields, **changes})


def record(days: float, age: int = 24, **changes: Any) -> PlayerRecord:
    return example_of(PlayerRecord, player_id="p1", age=age, as_of=T0 + timedelta(days=days), **changes)


def roundtrip(state: Any) -> Any:
    return type(state).from_dict(json.loads(json.dumps(state.to_dict(), allow_nan=False)))


def test_updates_leave_their_input_unchanged() -> None:
    player = update_player(None, transfer("t1"))
    club = update_club(None, transfer("t1"), "Buyers FC")
    market = update_market(None, transfer("t1"))
    before = [player.to_dict(), club.to_dict(), market.to_dict()]
    update_player(player, transfer("t2", days=30, fee=0.0))
    update_player(player, record(40))
    update_club(club, transfer("t2", days=30, from_club="Buyers FC", to_club="Others"), "Buyers FC")
    update_market(market, transfer("t2", days=30))
    assert [player.to_dict(), club.to_dict(), market.to_dict()] == before


def test_club_is_buyer_seller_or_both() -> None:
    event = transfer("t1")
    bought = update_club(None, event, "Buyers FC")
    sold = update_club(None, event, "Sellers FC")
    assert [len(bought.bought.entries), len(bought.sold.entries)] == [1, 0]
    assert [len(sold.bought.entries), len(sold.sold.entries)] == [0, 1]
    assert [seen.league for seen in bought.leagues] == ["League B"]
    assert [seen.league for seen in sold.leagues] == ["League A"]
    both = update_club(None, transfer("t2", from_club="Same", to_club="Same"), "Same")
    assert [len(both.bought.entries), len(both.sold.entries)] == [1, 1]
    with pytest.raises(StateMismatchError):
        update_club(None, event, "Bystanders")
    with pytest.raises(StateMismatchError):
        update_club(bought, transfer("t3", to_club="Sellers FC", from_club="X"), "Sellers FC")
    with pytest.raises(StateMismatchError):
        update_player(PlayerState(player_id="p2"), event)


def test_free_transfers_are_moves_but_not_fees() -> None:
    event = transfer("free", fee=0.0)
    club = update_club(None, event, "Buyers FC")
    player = update_player(None, event)
    assert (len(club.bought.entries), len(club.bought_free.entries)) == (0, 1)
    assert (len(player.paid_moves.entries), len(player.free_moves.entries)) == (0, 1)
    assert update_market(None, event) == MarketState()


def test_redelivered_transfer_is_a_no_op() -> None:
    event = transfer("t1")
    player = update_player(None, event)
    club = update_club(None, event, "Buyers FC")
    market = update_market(None, event)
    assert update_player(player, event) is player
    assert update_club(club, event, "Buyers FC") is club
    assert update_market(market, event) is market
    seen = update_player(player, record(5))
    assert update_player(seen, record(5)) is seen


def test_histories_stay_bounded_and_count_what_they_cut() -> None:
    club: ClubState | None = None
    player: PlayerState | None = None
    market: MarketState | None = None
    for i in range(300):
        event = transfer(f"t{i}", days=20 * i, fee=1.0 + i % 7 + (0 if i % 2 else 0.5))
        club = update_club(club, event, "Buyers FC")
        player = update_player(player, event)
        market = update_market(market, event)
        player = update_player(player, record(20 * i + 1))
    assert club is not None and player is not None and market is not None
    assert len(club.bought.entries) == CLUB_DEALS_KEPT
    assert club.bought.dropped == 300 - CLUB_DEALS_KEPT
    assert club.bought.dropped_until == club.bought.entries[0].at - 20 * 86_400
    assert len(player.paid_moves.entries) == PLAYER_MOVES_KEPT
    assert len(player.sightings) == PLAYER_SIGHTINGS
    assert len(market.leagues["League B"]) == MARKET_DEALS_KEPT
    assert len(market.months["League B"]) == MARKET_MONTHS
    assert len(json.dumps(club.to_dict())) < 12_000  # one full side: CLUB_DEALS_KEPT deals


def test_out_of_order_events_are_kept_in_time_order() -> None:
    club = None
    for tid, days in [("late", 50), ("early", 10), ("middle", 30), ("earliest", 0)]:
        club = update_club(club, transfer(tid, days=days), "Buyers FC")
    assert club is not None
    assert [deal.transfer_id for deal in club.bought.entries] == ["earliest", "early", "middle", "late"]


def test_unknown_league_falls_back() -> None:
    market = update_market(None, transfer("t1", to_league=None, from_league="League A"))
    market = update_market(market, transfer("t2", to_league=None, from_league=None))
    assert sorted(market.leagues) == ["League A", "unknown"]


def test_states_round_trip_through_json() -> None:
    player: PlayerState | None = None
    clubs: dict[str, ClubState] = {}
    market: MarketState | None = None
    for i in range(30):
        event = transfer(f"t{i}", days=45 * i, fee=float(i % 3), age=None if i % 4 else 22)
        player = update_player(update_player(player, event), record(45 * i + 2, age=23 + i // 10))
        for name in (event.from_club, event.to_club):
            clubs[name] = update_club(clubs.get(name), event, name)
        market = update_market(market, event)
    for state in (player, *clubs.values(), market, PlayerState("p9"), ClubState("c"), MarketState()):
        assert roundtrip(state) == state
