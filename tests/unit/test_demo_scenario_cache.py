"""The main job's scenario cache: the same events as reading the data, read again when it changes."""

from __future__ import annotations

from pathlib import Path

from demo.scenario import SyntheticPlan, load_scenario
from demo.scenario_cache import cached_scenario
from tests.producer_samples import PL, write_csv
from tests.stats_samples import stats_row, write_stats


def test_a_cached_scenario_equals_the_one_read(tmp_path: Path) -> None:
    plan = SyntheticPlan(first_season=2010, per_season=40)
    expected = load_scenario(None, base_until=2012, last_season=2014, synthetic=plan)
    first, hit = cached_scenario(tmp_path, None, 2012, 2014, plan)
    assert not hit and first == expected
    again, hit = cached_scenario(tmp_path, None, 2012, 2014, plan)
    assert hit and again == expected and again.windows() == expected.windows()
    other, hit = cached_scenario(tmp_path, None, 2012, 2015, plan)  # other arguments: another key
    assert not hit and other != expected


def test_a_broken_cache_file_is_read_again(tmp_path: Path) -> None:
    plan = SyntheticPlan(first_season=2011, per_season=30)
    cached_scenario(tmp_path, None, 2012, 2013, plan)
    [path] = tmp_path.glob("scenario-*.json")
    path.write_text("{not json")
    again, hit = cached_scenario(tmp_path, None, 2012, 2013, plan)
    assert not hit and again == load_scenario(None, base_until=2012, last_season=2013, synthetic=plan)


def test_a_cached_scenario_keeps_the_season_records_and_their_match(tmp_path: Path) -> None:
    for folder in ("t", "s", "cache"):
        (tmp_path / folder).mkdir()
    transfers = write_csv(tmp_path / "t" / "pl.csv", PL)
    rows = [stats_row(1, "Dimitar Berbatov", "Tottenham", 2014), stats_row(2, "Nobody Known", "Spurs", 2014)]
    write_stats(tmp_path / "s" / "understat.csv", rows)
    expected = load_scenario(transfers.parent, base_until=2007, last_season=2016, stats_dir=tmp_path / "s")
    first, hit = cached_scenario(tmp_path / "cache", transfers.parent, 2007, 2016, None, tmp_path / "s")
    assert not hit and first == expected
    again, hit = cached_scenario(tmp_path / "cache", transfers.parent, 2007, 2016, None, tmp_path / "s")
    assert hit and again == expected and again.records.matched == 1
    without, hit = cached_scenario(tmp_path / "cache", transfers.parent, 2007, 2016, None, None)
    assert not hit and without.records.source == ""  # no stats folder: another key
