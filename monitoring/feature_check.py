"""One feature drift check with Evidently 0.7: a window of scored vectors against the reference.

Each feature gets Evidently's ``ValueDrift`` with a distance, not a p-value test: the normed
Wasserstein distance, or the Jensen-Shannon distance for features with at most five values
in the reference (flags, one-hot positions). A p-value flags negligible differences once
windows hold thousands of rows; a distance measures how far the distribution moved, whatever
the window size. This is also what Evidently picks by itself for references over 1,000 rows;
fixing it keeps the method stable when a reference is smaller. A feature counts as drifted
when its score reaches the column threshold (Evidently's own rule), and the share of drifted
features is computed from those per-feature verdicts.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from evidently import DataDefinition, Dataset, Report
from evidently.metrics import ValueDrift

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
    snapshot: Any = field(repr=False)

    @property
    def method(self) -> str:
        """e.g. 'evidently:jensenshannon+wasserstein'."""
        return "evidently:" + "+".join(sorted(set(self.methods.values())))

    def save_html(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.snapshot.save_html(str(path))


def choose_methods(reference: pd.DataFrame, columns: Sequence[str]) -> dict[str, str]:
    """The drift method of each column, decided by the reference alone (stable across windows)."""
    return {
        name: FEW_VALUES_METHOD if reference[name].nunique() <= CATEGORICAL_MAX_VALUES else NUMERIC_METHOD
        for name in columns
    }


def feature_drift(
    reference: pd.DataFrame, current: pd.DataFrame, columns: Sequence[str], column_threshold: float
) -> FeatureDriftResult:
    """Run the Evidently report on ``columns`` of ``current`` against ``reference``."""
    names = list(columns)
    if not names:
        raise ValueError("no feature to check")
    methods = choose_methods(reference, names)
    definition = DataDefinition(numerical_columns=names)
    report = Report(
        [ValueDrift(column=name, method=methods[name], threshold=column_threshold) for name in names],
        include_tests=False,
    )
    started = time.perf_counter()
    snapshot = report.run(
        Dataset.from_pandas(current[names].astype("float64"), data_definition=definition),
        Dataset.from_pandas(reference[names].astype("float64"), data_definition=definition),
    )
    elapsed = time.perf_counter() - started
    scores = _value_drift_scores(snapshot.dict())
    missing = [name for name in names if name not in scores]
    if missing:
        raise RuntimeError(f"Evidently returned no drift score for {missing}")
    drifted = tuple(name for name in names if scores[name] >= column_threshold)
    return FeatureDriftResult(
        scores={name: scores[name] for name in names},
        methods=methods,
        drifted=drifted,
        share=len(drifted) / len(names),
        rows=len(current),
        reference_rows=len(reference),
        elapsed_s=elapsed,
        snapshot=snapshot,
    )


def _value_drift_scores(results: dict[str, Any]) -> dict[str, float]:
    scores: dict[str, float] = {}
    for metric in results.get("metrics", []):
        config = metric.get("config", {})
        if str(config.get("type", "")).endswith(":ValueDrift"):
            scores[str(config["column"])] = float(metric["value"])
    return scores
