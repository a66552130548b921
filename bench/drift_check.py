"""Time of one Evidently feature drift check, as the drift monitor runs it.

A window of ``rows`` request vectors (the 42 features of features.vector, default 5,000)
against a 2,000-row reference sample (what the trainer stores), through
monitoring.feature_check.feature_drift: one Evidently ValueDrift per feature. The
first run is reported apart (imports and caches warm up); then a few timed repetitions,
and the HTML report written once (the monitor writes it only when it emits an event).

    .venv/bin/python bench/drift_check.py [--rows 5000] [--repeat 3]

Last line: one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from features.vector import FEATURE_NAMES  # noqa: E402
from monitoring.feature_check import feature_drift  # noqa: E402

REFERENCE_ROWS = 2000
_FLAGS = ("age_missing", "window_summer", "cross_league")


def synthetic_vectors(n: int, seed: int, inflation: float = 0.0) -> pd.DataFrame:
    """Vectors with the shapes of the real ones: flags, one-hot positions, counts, log fees."""
    rng = np.random.default_rng(seed)
    columns: dict[str, np.ndarray] = {}
    positions = rng.integers(0, 4, n)
    for index, name in enumerate(FEATURE_NAMES):
        if name.startswith("pos_"):
            columns[name] = (positions == index % 4).astype(float)
        elif name in _FLAGS:
            columns[name] = (rng.random(n) < 0.3).astype(float)
        elif name == "age":
            columns[name] = rng.normal(25.0, 3.5, n).round()
        elif name == "season_index":
            columns[name] = rng.integers(10, 13, n).astype(float)
        elif name.endswith(("_paid", "_free", "_deals", "_moves")):
            columns[name] = rng.poisson(3.0 + index % 7, n).astype(float)
        elif name.endswith("days_since_move") or name.endswith("days_since_deal"):
            columns[name] = np.minimum(rng.exponential(400.0, n), 3650.0)
        else:
            columns[name] = rng.gamma(2.0, 0.6, n) + inflation
    return pd.DataFrame(columns)


def measure_drift_check(rows: int = 5000, repeat: int = 3, seed: int = 0) -> dict[str, float | int]:
    """Seconds per check (cold, then median/min/max of ``repeat`` warm runs) and HTML time."""
    reference = synthetic_vectors(REFERENCE_ROWS, seed)
    window = synthetic_vectors(rows, seed + 1, inflation=0.2)
    columns = list(FEATURE_NAMES)
    started = time.perf_counter()
    result = feature_drift(reference, window, columns, 0.1)
    cold = time.perf_counter() - started
    warm: list[float] = []
    for _ in range(repeat):
        started = time.perf_counter()
        result = feature_drift(reference, window, columns, 0.1)
        warm.append(time.perf_counter() - started)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "report.html"
        started = time.perf_counter()
        result.save_html(path)
        html_s = time.perf_counter() - started
        html_mb = path.stat().st_size / 1e6
    return {
        "drift_check_rows": rows,
        "drift_check_reference_rows": REFERENCE_ROWS,
        "drift_check_features": len(columns),
        "drift_check_cold_s": round(cold, 3),
        "drift_check_s": round(statistics.median(warm), 3),
        "drift_check_min_s": round(min(warm), 3),
        "drift_check_max_s": round(max(warm), 3),
        "drift_check_repeat": repeat,
        "drift_report_html_s": round(html_s, 3),
        "drift_report_html_mb": round(html_mb, 2),
        "drift_check_share_drifted": round(result.share, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5000, help="Rows in the window (default 5000).")
    parser.add_argument("--repeat", type=int, default=3, help="Timed warm repetitions (default 3).")
    args = parser.parse_args()
    figures = measure_drift_check(rows=args.rows, repeat=args.repeat)
    rows, features = figures["drift_check_rows"], figures["drift_check_features"]
    print(f"Evidently drift check: {rows} rows x {features} features")
    print(f"  against a {figures['drift_check_reference_rows']}-row reference")
    print(f"  first run (cold):     {figures['drift_check_cold_s']:.2f} s")
    print(
        f"  warm, {figures['drift_check_repeat']} runs:       median {figures['drift_check_s']:.2f} s "
        f"(min {figures['drift_check_min_s']:.2f}, max {figures['drift_check_max_s']:.2f})"
    )
    html_s, html_mb = figures["drift_report_html_s"], figures["drift_report_html_mb"]
    print(f"  HTML report:          {html_s:.2f} s, {html_mb:.1f} MB")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
