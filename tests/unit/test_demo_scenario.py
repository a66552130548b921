"""The main job steps once per real transfer window, whatever the dates of player records."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from demo.scenario import Ingested, Scenario, SyntheticPlan, choose_data, load_scenario, steps
from schemas.examples import example_of
from schemas.records import PlayerRecord, TransferCompleted
from schemas.season_stats import PlayerSeasonStats, season_end
from tests.producer_samples import PL, write_csv
from tests.stats_samples import stats_row, write_stats


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


def test_a_window_is_published_in_steps_of_at_most_n_paid_transfers() -> None:
    free = _transfer("free", 2014, "summer", fee=0.0)
    record = _record("r", datetime(2014, 7, 1, tzinfo=UTC))
    paid = [_transfer(f"p{n}", 2014, "summer") for n in range(5)]
    stats = PlayerSeasonStats.model_validate(example_of(PlayerSeasonStats))
    events: list[Ingested] = [record, paid[0], free, paid[1], paid[2], paid[3], paid[4], stats]
    cut = steps(events, 2)
    assert [len([e for e in step if e in paid]) for step in cut] == [2, 2, 1]
    assert [e for step in cut for e in step] == events  # nothing lost, nothing reordered
    assert cut[0] == [record, paid[0], free, paid[1]]  # a free transfer does not count
    assert cut[-1] == [paid[4], stats]  # the season record stays with the last step
    # A last step of records only joins the step before; 0 keeps the window whole.
    assert steps(events[:-2] + [stats], 2) == [[record, paid[0], free, paid[1]], [paid[2], paid[3], stats]]
    assert steps(events, 0) == [events]


def test_the_synthetic_world_has_two_windows_a_season() -> None:
    plan = SyntheticPlan(first_season=2010, per_season=60)
    scenario = load_scenario(None, base_until=2011, last_season=2014, synthetic=plan)
    keys = [key for key, _ in scenario.windows()]
    assert keys == [(s, w) for s in (2012, 2013, 2014) for w in ("summer", "winter")]
    assert sum(len(events) for _, events in scenario.windows()) == len(scenario.stream)


def _season_stats(player: str, season: int) -> PlayerSeasonStats:
    return example_of(PlayerSeasonStats, player_id=player, season=season, known_at=season_end(season))


def test_a_season_record_closes_the_window_before_the_requests_that_may_read_it() -> None:
    record = _season_stats("s1", 2013)  # known 1 June 2014: after the 2013 winter, before 2014 summer
    stream: list[Ingested] = [_transfer("s0", 2013, "summer"), _transfer("w0", 2013, "winter")]
    stream += [record, _transfer("s1", 2014, "summer")]
    windows = dict(Scenario("test", [], stream, 2012).windows())
    assert windows[(2013, "winter")][-1] == record
    assert record not in windows[(2014, "summer")]


def test_real_data_merges_the_resolved_season_records_in_time_order(tmp_path: Path) -> None:
    for folder in ("t", "s"):
        (tmp_path / folder).mkdir()
    transfers = write_csv(tmp_path / "t" / "pl.csv", PL)
    rows = [stats_row(1, "Dimitar Berbatov", "Tottenham", 2014), stats_row(2, "Nobody Known", "Spurs", 2014)]
    write_stats(tmp_path / "s" / "understat.csv", rows)
    scenario = load_scenario(transfers.parent, base_until=2007, last_season=2016, stats_dir=tmp_path / "s")
    assert (scenario.records.rows_read, scenario.records.matched, scenario.records.unmatched) == (2, 1, 1)
    assert scenario.records.match_rate == 0.5
    (record,) = [e for e in scenario.stream if isinstance(e, PlayerSeasonStats)]
    berbatov = next(
        e for e in scenario.stream if isinstance(e, TransferCompleted) and "Berbatov" in e.player_name
    )
    assert record.player_id == berbatov.player_id
    times = [
        e.known_at if isinstance(e, PlayerSeasonStats) else getattr(e, "transferred_at", None)
        for e in scenario.stream
    ]
    stamps = [t for t in times if t is not None]
    assert stamps == sorted(stamps)
    no_records = load_scenario(transfers.parent, base_until=2007, last_season=2016)
    assert no_records.records.source == "" and not any(
        isinstance(e, PlayerSeasonStats) for e in no_records.stream
    )


def test_the_data_is_the_shared_folder_else_the_fetched_files_else_the_synthetic_world(
    tmp_path: Path,
) -> None:
    shared, fetched = tmp_path / "shared", tmp_path / "state" / "data"
    nothing = choose_data(shared, fetched)
    assert nothing.transfers is None and "synthetic" in nothing.origin
    for folder in (fetched / "transfers", shared / "transfers", shared / "player-stats"):
        folder.mkdir(parents=True)
    write_csv(fetched / "transfers" / "pl.csv", PL)
    only_fetched = choose_data(shared, fetched)
    assert only_fetched.transfers == fetched / "transfers" and only_fetched.stats is None
    assert "data fetch" in only_fetched.origin and "no season records" in only_fetched.origin
    write_csv(shared / "transfers" / "pl.csv", PL)
    write_stats(shared / "player-stats" / "understat.csv", [stats_row(1, "A B", "C", 2014)])
    both = choose_data(shared, fetched)
    assert (both.transfers, both.stats) == (shared / "transfers", shared / "player-stats")
    assert "shared" in both.origin and "season records" in both.origin


def test_the_cli_publishes_in_the_demos_default_steps() -> None:
    from cli.demo_cmd import STEP_REQUESTS_OPTION
    from demo.demo import STEP_REQUESTS

    assert STEP_REQUESTS_OPTION.default == STEP_REQUESTS
