"""Training sets: replay through the serving code path, point in time, no leak of the label."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
import pytest

from features.state import SLACK
from features.store import InMemoryFeatureStore
from features.training_set import build_training_set
from features.vector import FEATURE_NAMES
from schemas.examples import example_of
from schemas.predictions import request_from_transfer
from schemas.records import PlayerRecord, TransferCompleted

T0 = datetime(2012, 7, 1, tzinfo=UTC)
Event = PlayerRecord | TransferCompleted


def transfer(tid: str, player: str, frm: str, to: str, fee: float, days: float) -> TransferCompleted:
    return example_of(
        TransferCompleted, transfer_id=tid, player_id=player, from_club=frm, to_club=to, fee_eur_m=fee,
        transferred_at=T0 + timedelta(days=days), from_league="L1", to_league="L1", age=None,
    )  # fmt: skip


def hand_made() -> list[Event]:
    return [
        example_of(PlayerRecord, player_id="p1", age=22, as_of=T0),
        transfer("t1", "p1", "A", "B", 10.0, 10),
        transfer("t2", "p2", "C", "B", 0.0, 20),
        transfer("t3", "p3", "A", "C", 5.0, 30),
        transfer("t4", "p1", "B", "C", 20.0, 40),
        transfer("t5", "p4", "D", "B", 0.3, 50),
    ]


def synthetic_events(n: int, seed: int = 7) -> list[Event]:
    """n events over ~15 years: 8 leagues, 200 clubs, records and transfers, half of them free."""
    rng = random.Random(seed)
    clubs = [(f"club-{i}", f"league-{i % 8}") for i in range(200)]
    players = max(n // 5, 1)
    at = datetime(1995, 7, 1, tzinfo=UTC)
    events: list[Event] = []
    for i in range(n):
        at += timedelta(minutes=rng.randint(0, 160))
        player = f"p{rng.randrange(players)}"
        if rng.random() < 0.3:
            club, league = rng.choice(clubs)
            events.append(PlayerRecord(
                player_id=player, name=player, age=rng.randint(17, 36), position="Central Midfield",
                club=club, league=league, as_of=at, source="synthetic",
            ))  # fmt: skip
            continue
        (frm, frm_league), (to, to_league) = rng.sample(clubs, 2)
        fee = 0.0 if rng.random() < 0.5 else round(rng.lognormvariate(0.5 + (at.year - 1995) / 10, 1.2), 2)
        events.append(TransferCompleted(
            transfer_id=f"t{i}", player_id=player, player_name=player, age=rng.choice([None, 24, 29]),
            position="Left Winger", from_club=frm, to_club=to, from_league=frm_league, to_league=to_league,
            season=at.year if at.month >= 7 else at.year - 1,
            window="summer" if at.month in (6, 7, 8) else "winter",
            transferred_at=at, fee_eur_m=min(fee, 999.0), source="synthetic",
        ))  # fmt: skip
    return events


def features_of(frame: pd.DataFrame, transfer_id: str) -> dict[str, float]:
    row = frame.set_index("transfer_id").loc[transfer_id]
    return {name: float(row[name]) for name in FEATURE_NAMES}


def test_columns_and_rows() -> None:
    frame = build_training_set(hand_made())
    extra = ["log_fee", "fee_eur_m", "season", "transferred_at", "transfer_id"]
    assert list(frame.columns) == [*FEATURE_NAMES, *extra]
    assert list(frame["transfer_id"]) == ["t1", "t3", "t4", "t5"]  # free t2 gives no row
    assert frame["log_fee"].tolist() == pytest.approx([math.log1p(f) for f in (10.0, 5.0, 20.0, 0.3)])
    assert frame["season"].dtype == "int64" and str(frame["transferred_at"].dt.tz) == "UTC"
    assert list(build_training_set(hand_made(), min_fee_eur_m=1.0)["transfer_id"]) == ["t1", "t3", "t4"]
    empty = build_training_set([])
    assert empty.empty and list(empty.columns) == list(frame.columns)


def test_rows_see_only_the_past() -> None:
    frame = build_training_set(hand_made())
    t1, t3, t4, t5 = (features_of(frame, tid) for tid in ("t1", "t3", "t4", "t5"))
    # A club's first paid deal has a paid count of 0 in its own row.
    assert t1["to_club_bought_paid"] == 0.0 and t1["from_club_sold_paid"] == 0.0
    assert t1["market_league_deals"] == 0.0 and t1["player_moves"] == 0.0
    assert t4["market_365d_deals"] == 2.0 and t4["market_365d_log_fee"] > 0
    assert t1["age"] == pytest.approx(22 + 10 / 365.25) and t1["age_missing"] == 0.0
    assert t3["from_club_sold_paid"] == 1.0
    assert t3["from_club_sold_mean_log_fee"] == pytest.approx(math.log1p(10))
    assert t3["to_club_sold_free"] == 1.0 and t3["to_club_bought_paid"] == 0.0
    assert t4["player_moves"] == 1.0 and t4["player_last_log_fee"] == pytest.approx(math.log1p(10))
    assert (t4["from_club_bought_paid"], t4["from_club_bought_free"], t4["to_club_bought_paid"]) == (1, 1, 1)
    assert t5["to_club_bought_paid"] == 1.0 and t5["to_club_sold_paid"] == 1.0
    assert t5["market_league_deals"] == 2.0  # t1 and t3 in July; t4 is in t5's own month


def test_a_rows_features_do_not_depend_on_its_own_fee() -> None:
    events = synthetic_events(600, seed=3)
    paid = [e for e in events if isinstance(e, TransferCompleted) and e.fee_eur_m > 0]
    target = paid[len(paid) // 2]
    changed = [e.model_copy(update={"fee_eur_m": 999.0}) if e is target else e for e in events]
    before, after = build_training_set(events), build_training_set(changed)
    assert features_of(before, target.transfer_id) == features_of(after, target.transfer_id)
    assert not before["log_fee"].equals(after["log_fee"])


def test_serving_vector_equals_the_training_row_even_if_the_fee_came_first() -> None:
    """One code path: a worker's store, having read the transfer itself (and a few more), agrees."""
    events = synthetic_events(3_000, seed=11)
    frame = build_training_set(events).set_index("transfer_id")
    store = InMemoryFeatureStore()
    checked = 0
    for i, event in enumerate(events):
        store.apply(event)
        behind = events[i - SLACK] if i >= SLACK else None  # the state is SLACK events ahead
        if isinstance(behind, TransferCompleted) and behind.fee_eur_m > 0:
            served = store.vector_for(request_from_transfer(behind))
            assert served == {name: float(frame.loc[behind.transfer_id, name]) for name in FEATURE_NAMES}
            checked += 1
    assert checked > 500


def test_a_long_replay_gives_a_complete_frame() -> None:
    # How fast it is, is bench/loop.py's to measure: no clock in a test on a shared machine.
    frame = build_training_set(synthetic_events(10_000))
    assert len(frame) > 2_500 and frame[list(FEATURE_NAMES)].notna().all().all()


def request_fields_follow_the_transfer(t: TransferCompleted) -> dict[str, Any]:
    request = request_from_transfer(t)
    return {"request_id": request.request_id, "transfer_id": request.transfer_id, "source": request.source,
            "requested_at": request.requested_at, "league": request.league}  # fmt: skip


def test_request_from_transfer() -> None:
    t = transfer("t9", "p1", "A", "B", 3.0, 5)
    assert request_fields_follow_the_transfer(t) == {
        "request_id": "replay-t9", "transfer_id": "t9", "source": "replay",
        "requested_at": t.transferred_at, "league": "L1",
    }  # fmt: skip
