"""The Evidently check on its own, the report files, and the monitor's configuration."""

from __future__ import annotations

import os
from pathlib import Path
from uuid import uuid4

import numpy as np
import pandas as pd
import pytest

from monitoring import (
    DriftConfig,
    FileReports,
    ReportPathError,
    feature_drift,
    report_path,
    resolve_report,
)
from monitoring.feature_check import choose_methods, evidently_report, report_scores
from stack.settings import Settings
from tests.unit.test_drift_monitor import FEATURES, feature_rows


@pytest.fixture(scope="module")
def reference() -> pd.DataFrame:
    return feature_rows(2000, seed=1)


def test_each_feature_gets_a_distance_chosen_from_the_reference(reference: pd.DataFrame) -> None:
    methods = choose_methods(reference, FEATURES)
    flags = {"age_missing", "pos_forward", "cross_league", "season_index"}  # <= 5 distinct values
    assert {name for name, method in methods.items() if method == "jensenshannon"} == flags
    assert {name for name, method in methods.items() if method == "wasserstein"} == set(FEATURES) - flags


def test_same_law_scores_low_and_a_shift_scores_high(reference: pd.DataFrame) -> None:
    columns = [name for name in FEATURES if name != "season_index"]
    same = feature_drift(reference, feature_rows(1000, seed=2), columns, 0.1)
    assert same.drifted == () and same.share == 0.0
    assert max(same.scores.values()) < 0.1 and same.rows == 1000 and same.reference_rows == 2000

    shifted = feature_drift(
        reference, feature_rows(1000, seed=2, shift={"age": 3.0, "cross_league": 0.0}), columns, 0.1
    )
    assert shifted.drifted == ("age",)
    assert shifted.share == pytest.approx(1 / len(columns))
    assert shifted.scores["age"] == max(shifted.scores.values()) > 0.5
    assert shifted.elapsed_s > 0 and shifted.method == "evidently:jensenshannon+wasserstein"


def test_the_scores_are_those_of_the_evidently_report(reference: pd.DataFrame) -> None:
    # The check runs Evidently's stattests without the report (whose widgets cost seconds):
    # the same numbers as the full report on the same columns, inf and missing values included.
    current = feature_rows(1000, seed=4, shift={"age": 1.5})
    current.loc[current.index[:7], "age"] = np.nan
    current.loc[current.index[7:9], "player_last_log_fee"] = np.inf
    columns = list(FEATURES)
    fast = feature_drift(reference, current, columns, 0.1)
    assert fast.scores == pytest.approx(report_scores(evidently_report(reference, current, columns, 0.1)))
    assert fast.scores == pytest.approx(report_scores(fast.snapshot))


def test_a_flag_that_changes_rate_drifts_by_jensen_shannon(reference: pd.DataFrame) -> None:
    current = feature_rows(1000, seed=3)
    current["pos_forward"] = (np.random.default_rng(3).random(1000) < 0.7).astype(float)  # 0.3 -> 0.7
    result = feature_drift(reference, current, ["pos_forward", "age"], 0.1)
    assert result.methods == {"pos_forward": "jensenshannon", "age": "wasserstein"}
    assert result.drifted == ("pos_forward",)


def test_the_html_report_is_written_under_state_dir(reference: pd.DataFrame, tmp_path: Path) -> None:
    result = feature_drift(reference, feature_rows(500, seed=4), ["age", "player_moves"], 0.1)
    event_id = uuid4()
    uri = FileReports(tmp_path).save(event_id, result)
    assert uri == f"reports/{event_id}.html"
    path = resolve_report(tmp_path, uri)
    assert path == report_path(tmp_path, event_id).resolve() and "<!DOCTYPE html>" in path.read_text(
        encoding="utf-8"
    )
    assert not list(path.parent.glob("*.tmp"))


class _Html:
    """Stands in for a drift result: only how it writes its report matters here."""

    def save_html(self, path: Path) -> None:
        path.write_text("<!DOCTYPE html>", encoding="utf-8")


def test_only_the_newest_reports_are_kept(tmp_path: Path) -> None:
    reports = FileReports(tmp_path, keep=3)
    ids = [uuid4() for _ in range(5)]
    for age, event_id in enumerate(ids[:4]):
        reports.save(event_id, _Html())  # type: ignore[arg-type]
        stamp = 1_000_000 + age  # distinct times: file times are too coarse to order quick writes
        os.utime(report_path(tmp_path, event_id), (stamp, stamp))
    kept = {p.name for p in (tmp_path / "reports").glob("*.html")}
    assert kept == {f"{i}.html" for i in ids[1:4]}
    reports.save(ids[4], _Html())  # type: ignore[arg-type]
    kept = {p.name for p in (tmp_path / "reports").glob("*.html")}
    assert kept == {f"{i}.html" for i in ids[2:5]}


@pytest.mark.parametrize(
    "uri", ["reports/../secrets.html", "../reports/x.html", "/etc/passwd", "reports/x.txt"]
)
def test_a_report_uri_outside_the_reports_folder_is_refused(tmp_path: Path, uri: str) -> None:
    with pytest.raises(ReportPathError):
        resolve_report(tmp_path, uri)


def test_config_from_settings_and_its_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLOPS_FC_DRIFT_EXCLUDE_FEATURES", "season_index, market_league_deals")
    monkeypatch.setenv("MLOPS_FC_DRIFT_FEATURE_WINDOW", "800")
    settings = Settings(_env_file=None, topic_prefix="x.")  # type: ignore[call-arg]
    config = DriftConfig.from_settings(settings)
    assert config.exclude_features == {"season_index", "market_league_deals"}
    assert (config.model_name, config.feature_window, config.feature_min_rows) == ("x.transfer-fee", 800, 500)
    assert (config.share_threshold, config.error_ratio, config.column_threshold) == (0.3, 1.3, 0.2)
    with pytest.raises(ValueError, match="feature_min_rows"):
        DriftConfig(model_name="m", feature_window=100, feature_min_rows=200)
    with pytest.raises(ValueError, match="error_min_rows"):
        DriftConfig(model_name="m", error_window=50, error_min_rows=60)


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("season_index", ("season_index",)),
        (" a, b ,", ("a", "b")),
        ('["a", "b"]', ("a", "b")),
        ("('a', 'b')", ("a", "b")),  # what devstack.services.settings_env passes to a child process
        ("", ()),
    ],
)
def test_excluded_features_read_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, text: str, names: tuple[str, ...]
) -> None:
    monkeypatch.setenv("MLOPS_FC_DRIFT_EXCLUDE_FEATURES", text)
    assert Settings(_env_file=None).drift_exclude_features == names  # type: ignore[call-arg]
