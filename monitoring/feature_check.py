"""One feature drift check with Evidently 0.7: a window of scored vectors against the reference.

Each feature gets Evidently's ``ValueDrift`` with a distance, not a p-value test: the normed
Wasserstein distance, or the Jensen-Shannon distance for features with at most five values
in the reference (flags, one-hot positions). A p-value flags negligible differences once
windows hold thousands of rows; a distance measures how far the distribution moved, whatever
the window size. This is also what Evidently picks by itself for references over 1,000 rows;
fixing it keeps the method stable when a reference is smaller. A feature counts as drifted
when its score reaches the column threshold (Evidently's own rule), and the share of drifted
features is computed from those per-feature verdicts.

The scores come from the very stattests the report runs (Evidently's ``get_stattest``, on
the columns cleaned as ``ValueDrift`` cleans them), without the report: ``ValueDrift``
renders its plotly widgets on every run, which took 85 % of a check (about 10 s for 44
features on the shared cores). The full report, widgets and all, is built only when a
check's HTML is saved, i.e. when it raised a drift event.
"""

from __future__ import annotations

import importlib
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

# Evidently is imported where it is used: its import takes 5-11 s on the shared cores, which
# the monitor's start (up's readiness) need not wait for. preload() imports it beside the start.
EVIDENTLY_MODULES = ("evidently", "evidently.legacy.calculations.stattests", "evidently.metrics")
CATEGORICAL_MAX_VALUES = 5
NUMERIC_METHOD = "wasserstein"
FEW_VALUES_METHOD = "jensenshannon"


@dataclass(frozen=True)
class FeatureDriftResult:
    """Per-feature scores of one check, the features that drifted, and the Evidently snapshot."""

    scores: dict[str, float]
    methods: dict[str, str]
    drifted: tuple[str, ...]
    share: float
    rows: int
    reference_rows: int
    elapsed_s: float
    report: Callable[[], Any] = field(repr=False)  # builds the Evidently snapshot

    @property
    def snapshot(self) -> Any:
        """The Evidently report of this check (run on demand: its widgets take seconds)."""
        return self.report()

    @property
    def method(self) -> str:
        """e.g. 'evidently:jensenshannon+wasserstein'."""
        return "evidently:" + "+".join(sorted(set(self.methods.values())))

    def save_html(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.snapshot.save_html(str(path))


def preload() -> threading.Thread:
    """Import Evidently in a thread of its own; a check that comes first waits for it (import lock)."""
    thread = threading.Thread(
        target=lambda: [importlib.import_module(name) for name in EVIDENTLY_MODULES],
        name="evidently-import",
        daemon=True,
    )
    thread.start()
    return thread


def choose_methods(reference: pd.DataFrame, columns: Sequence[str]) -> dict[str, str]:
    """The drift method of each column, decided by the reference alone (stable across windows)."""
    return {
        name: FEW_VALUES_METHOD if reference[name].nunique() <= CATEGORICAL_MAX_VALUES else NUMERIC_METHOD
        for name in columns
    }


def feature_drift(
    reference: pd.DataFrame, current: pd.DataFrame, columns: Sequence[str], column_threshold: float
) -> FeatureDriftResult:
    """Score ``columns`` of ``current`` against ``reference`` with Evidently's stattests."""
    names = list(columns)
    if not names:
        raise ValueError("no feature to check")
    methods = choose_methods(reference, names)
    started = time.perf_counter()
    scores = {
        name: _column_score(reference[name], current[name], methods[name], column_threshold) for name in names
    }
    elapsed = time.perf_counter() - started
    drifted = tuple(name for name in names if scores[name] >= column_threshold)
    ref, cur = reference[names].copy(), current[names].copy()
    return FeatureDriftResult(
        scores=scores,
        methods=methods,
        drifted=drifted,
        share=len(drifted) / len(names),
        rows=len(current),
        reference_rows=len(reference),
        elapsed_s=elapsed,
        report=lambda: evidently_report(ref, cur, names, column_threshold),
    )


def _column_score(reference: pd.Series, current: pd.Series, method: str, threshold: float) -> float:
    """ValueDrift's score of one column: inf as missing, missing dropped, then the stattest."""
    from evidently.legacy.calculations.stattests import get_stattest
    from evidently.legacy.core import ColumnType

    ref = reference.astype("float64").replace([-np.inf, np.inf], np.nan).dropna()
    cur = current.astype("float64").replace([-np.inf, np.inf], np.nan).dropna()
    if ref.empty or cur.empty:
        raise ValueError(f"column {reference.name!r} has no finite value in the reference or the window")
    test = get_stattest(ref, cur, ColumnType.Numerical, method)
    return float(test(ref, cur, ColumnType.Numerical, threshold).drift_score)


def evidently_report(
    reference: pd.DataFrame, current: pd.DataFrame, columns: Sequence[str], column_threshold: float
) -> Any:
    """The Evidently report (a snapshot) of ``columns``: ValueDrift per feature, as scored above."""
    from evidently import DataDefinition, Dataset, Report
    from evidently.metrics import ValueDrift

    names = list(columns)
    methods = choose_methods(reference, names)
    definition = DataDefinition(numerical_columns=names)
    report = Report(
        [ValueDrift(column=name, method=methods[name], threshold=column_threshold) for name in names],
        include_tests=False,
    )
    return report.run(
        Dataset.from_pandas(current[names].astype("float64"), data_definition=definition),
        Dataset.from_pandas(reference[names].astype("float64"), data_definition=definition),
    )


def report_scores(snapshot: Any) -> dict[str, float]:
    """Per-feature drift scores as the Evidently report states them."""
    return _value_drift_scores(snapshot.dict())


def _value_drift_scores(results: dict[str, Any]) -> dict[str, float]:
    scores: dict[str, float] = {}
    for metric in results.get("metrics", []):
        config = metric.get("config", {})
        if str(config.get("type", "")).endswith(":ValueDrift"):
            scores[str(config["column"])] = float(metric["value"])
    return scores
