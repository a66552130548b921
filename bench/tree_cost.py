"""What the served model's size costs per request: early-stopped trees against all 300.

The retrainer's estimator no longer early-stops (retrainer/training.py: all ``max_iter`` trees
learn every row; it had stopped at 100-185). The worker pays for that in predict: this fits the
2012 model (six leagues up to 2012, the demo's first model) both ways on the same rows, compiles
each as the worker serves it (modelstore.compiled_trees, one thread) and times predict on
batches of ``--batch`` feature rows on this thread's CPU clock, alternating the two models
``--rounds`` times so load changes hit both alike.

    .venv/bin/python bench/tree_cost.py [--data ../shared/data/transfers] [--batch 64]

Last line: one JSON object (trees_early, trees_all, us_per_request_early, us_per_request_all,
ratio).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import load  # noqa: E402
from features.training_set import build_training_set  # noqa: E402
from features.vector import FEATURE_NAMES  # noqa: E402
from modelstore.compiled_trees import CompiledTrees, compile_trees  # noqa: E402
from producers.transfermarkt import read_transfers_csv  # noqa: E402
from retrainer.training import TrainingConfig, fit_estimator  # noqa: E402

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "transfers"


def cpu_us_per_row(predict: Callable[[np.ndarray], np.ndarray], rows: np.ndarray, seconds: float) -> float:
    """CPU microseconds per row of repeated ``predict`` calls on ``rows`` for about ``seconds``."""
    started, calls = time.thread_time(), 0
    while time.thread_time() - started < seconds:
        predict(rows)
        calls += 1
    return (time.thread_time() - started) / (calls * len(rows)) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=SHARED, help="folder of Transfermarkt CSV files")
    parser.add_argument("--batch", type=int, default=64, help="rows per predict call")
    parser.add_argument("--rounds", type=int, default=3, help="alternations of the two models")
    args = parser.parse_args()
    if not args.data.exists():
        sys.exit(f"no transfer data at {args.data}: pass --data or run `mlops-fc data fetch`")
    frame = build_training_set(read_transfers_csv([args.data]).transfers)
    train = frame[frame["season"] < 2013]
    rows = frame[list(FEATURE_NAMES)].to_numpy(dtype=float)
    models: dict[str, tuple[int, CompiledTrees]] = {}
    for name, config in (
        ("early", replace(TrainingConfig(), early_stopping=True)),
        ("all", TrainingConfig()),
    ):
        estimator = fit_estimator(train, config)
        compiled = compile_trees(estimator, rows[:256])
        if compiled is None:
            sys.exit("treelite could not compile the estimator: the worker would serve sklearn's own predict")
        models[name] = (int(estimator.n_iter_), compiled)
    costs: dict[str, list[float]] = {name: [] for name in models}
    print(f"2012 model, {len(train)} rows; batches of {args.batch}; load {load()}")
    for _ in range(args.rounds):
        for name, (_trees, compiled) in models.items():
            costs[name].append(cpu_us_per_row(compiled.predict, rows[: args.batch], 2.0))
    early, full = (float(np.median(costs[name])) for name in ("early", "all"))
    for name, value in (("early", early), ("all", full)):
        print(
            f"{name:>6}: {models[name][0]:>3} trees, {value:.1f} us CPU per request (median of {args.rounds})"
        )
    print(f"ratio {full / early:.2f}; load {load()}")
    summary = {
        "trees_early": models["early"][0],
        "trees_all": models["all"][0],
        "us_per_request_early": round(early, 2),
        "us_per_request_all": round(full, 2),
        "ratio": round(full / early, 3),
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
