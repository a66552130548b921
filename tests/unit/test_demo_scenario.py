"""The main job steps once per real transfer window, whatever the dates of player records."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from demo.scenario import Ingested, Scenario, SyntheticPlan, load_scenario
from schemas.records import PlayerRecord, TransferCompleted


def _record(player: str, at: datetime) -> PlayerRecord:
    return PlayerRecord(
        player_id=player, name=player, position="Centre-Forward", club="A", as_of=at, source="test"
    )


def _transfer(
    tid: str, season: int, window: Literal["summer", "winter"], fee: float = 1.0
) -> TransferCompleted:
    at = (
        datetime(season, 7, 15, tzinfo=UTC) if window == "summer" else datetime(season + 1, 1, 15, tzinfo=UTC)
    )
    return TransferCompleted(
        transfer_id=tid, player_id=tid, player_name=tid, position="Centre-Forward", from_club="A",
        to_club="B", fee_eur_m=fee, season=season, window=window, transferred_at=at, source="test",
    )  # fmt: skip


def test_a_january_record_stays_in_the_winter_window() -> None:
    stream: list[Ingested] = []
    for n in range(5):  # a winter: each transfer preceded by its player's January record
        stream += [_record(f"w{n}", datetime(2014, 1, 10, tzinfo=UTC)), _transfer(f"w{n}", 2013, "winter")]
    stream = [_transfer("s0", 2013, "summer"), *stream, _transfer("s1", 2014, "summer")]
    windows = Scenario("test", [], stream, 2012).windows()
    assert [key for key, _ in windows] == [(2013, "summer"), (2013, "winter"), (2014, "summer")]
    winter = windows[1][1]
    assert len(winter) == 10
    assert winter[0] == stream[1]  # the record travels with the transfer that follows it


def test_records_after_the_last_transfer_join_the_last_window() -> None:
    tail = _record("late", datetime(2015, 3, 1, tzinfo=UTC))
    windows = Scenario("test", [], [_transfer("a", 2014, "summer"), tail], 2012).windows()
    assert windows == [((2014, "summer"), [windows[0][1][0], tail])]


def test_the_synthetic_world_has_two_windows_a_season() -> None:
    plan = SyntheticPlan(first_season=2010, per_season=60)
    scenario = load_scenario(None, base_until=2011, last_season=2014, synthetic=plan)
    keys = [key for key, _ in scenario.windows()]
    assert keys == [(s, w) for s in (2012, 2013, 2014) for w in ("summer", "winter")]
    assert sum(len(events) for _, events in scenario.windows()) == len(scenario.stream)
