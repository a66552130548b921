"""Interval coverage on the real transfers: the model's own interval against the calibrated one.

An offline, prequential replay of the demo's stream (six leagues, seasons 2013-2022 after a
history up to 2012), with the project's own code: the point-in-time training set
(features.training_set), the trainer (retrainer.training.train_model, whose interval comes
from validation residual quantiles at their out-of-time levels) and the monitor's
calibrator (monitoring.calibration).
A new model version is trained at the start of every ``--retrain-every`` seasons on all the
seasons before it (1: every season, about as often as the live loop retrains on drift; 0:
never, the first model serves all ten seasons, the hardest case for its own interval); each
paid transfer is then predicted in time order and judged against its real fee:

- before: the interval the model carries ([prediction + q10, prediction + q90]);
- after: the calibrated interval as a worker would serve it: the version's bounds as last
  published (every ``publish_every`` labels), the model's own before ``min_labels`` labels;
  each real fee joins the calibrator after its prediction was judged.

How late the worker sees a publication matters as much as the rule: ``--delay N`` scores N
more requests with the old bounds after each publication (the monitor's batch and the
worker's poll), and ``--refresh window`` scores each transfer window with the bounds
published before it started, which is what the live demo served while a worker read them
every 5 s: the demo publishes a window's requests in a burst, answered within seconds.

It runs no broker: it measures the calibration rule on real data, not the services (the
real-stack test does that). Prints per-season and overall coverage, then one JSON line.

    .venv/bin/python bench/calibration.py [--data ../shared/data/transfers]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import deque
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from demo.scenario import load_scenario  # noqa: E402
from features.training_set import build_training_set  # noqa: E402
from features.vector import FEATURE_NAMES  # noqa: E402
from inference.scoring import INTERVAL_LEVELS  # noqa: E402
from modelstore.calibration import CalibratedBounds  # noqa: E402
from monitoring.calibration import CalibrationConfig, Calibrator  # noqa: E402
from retrainer.training import train_model  # noqa: E402
from schemas.records import TransferCompleted  # noqa: E402
from stack.settings import Settings  # noqa: E402


class WorkerView:
    """The bounds a worker scores with: the monitor's publications, as late as it sees them."""

    def __init__(self, refresh: str, delay: int) -> None:
        self.refresh, self.delay = refresh, delay
        self.served: CalibratedBounds | None = None
        self._pending: deque[tuple[int, CalibratedBounds]] = deque()  # (usable from request, bounds)
        self._latest: CalibratedBounds | None = None
        self._window, self._scored = "", 0

    def new_version(self) -> None:
        """A new model serves: the bounds of the old one no longer apply."""
        self.served = self._latest = None
        self._pending.clear()

    def published(self, bounds: CalibratedBounds) -> None:
        self._latest = bounds
        self._pending.append((self._scored + self.delay, bounds))

    def scoring(self, window: str) -> CalibratedBounds | None:
        """The bounds for the next request, of transfer window ``window``."""
        self._scored += 1
        if self.refresh == "window":
            if window != self._window:
                self._window, self.served = window, self._latest
            return self.served
        while self._pending and self._pending[0][0] < self._scored:
            self.served = self._pending.popleft()[1]
        return self.served


def worst(by_season: dict[int, float], level: float) -> float:
    """The season coverage farthest from the level."""
    return max(by_season.values(), key=lambda value: abs(value - level))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "transfers")
    parser.add_argument("--first", type=int, default=2013)
    parser.add_argument("--last", type=int, default=2022)
    parser.add_argument("--retrain-every", type=int, default=1, help="seasons per model version; 0: never")
    parser.add_argument("--refresh", choices=("labels", "window"), default="labels")
    parser.add_argument(
        "--delay", type=int, default=0, help="requests scored between a publication and its use by the worker"
    )
    args = parser.parse_args()
    settings = Settings()
    config = CalibrationConfig(
        level=settings.interval_level,
        window=settings.interval_window,
        min_labels=settings.interval_min_labels,
        publish_every=settings.interval_publish_every,
        adapt_step=settings.interval_adapt_step,
        seed_from_predecessor=settings.interval_seed_from_predecessor,
    )
    started = time.time()
    scenario = load_scenario(args.data, base_until=args.first - 1, last_season=args.last)
    frame = build_training_set([*scenario.history, *scenario.stream])
    frame = frame.sort_values("transferred_at", kind="stable").reset_index(drop=True)
    window_of = {e.transfer_id: e.window for e in scenario.stream if isinstance(e, TransferCompleted)}
    frame["window"] = frame["transfer_id"].map(window_of).fillna("summer")
    print(f"{scenario.source}: {len(frame)} paid transfers, {time.time() - started:.0f} s to build")

    calibrator = Calibrator(config)
    worker = WorkerView(args.refresh, args.delay)
    seasons: dict[int, dict[str, int]] = {}
    version = ""
    for season in range(args.first, args.last + 1):
        past, now = frame[frame["season"] < season], frame[frame["season"] == season]
        if now.empty:
            continue
        every = args.retrain_every
        if not version or (every > 0 and (season - args.first) % every == 0):
            artifact = train_model(past, settings.model_name)
            assert artifact.metadata.interval is not None
            own = artifact.metadata.interval.residual_quantiles
            own_low, own_high = own[INTERVAL_LEVELS[0]], own[INTERVAL_LEVELS[1]]
            version = str(season)
            worker.new_version()
        predicted = artifact.predict(now[list(FEATURE_NAMES)].to_numpy(dtype=float))
        truth = now["log_fee"].to_numpy()
        counts = {"rows": len(now), "own": 0, "calibrated": 0, "fallback": 0, "above": 0, "below": 0}
        for pred, real, window in zip(predicted, truth, now["window"].to_numpy(), strict=True):
            served = worker.scoring(f"{season} {window}")
            residual = float(real - pred)
            counts["own"] += int(own_low <= residual <= own_high)
            low, high = (own_low, own_high) if served is None else (served.low, served.high)
            counts["fallback"] += int(served is None)
            counts["calibrated"] += int(low <= residual <= high)
            counts["above"] += int(residual > high)
            counts["below"] += int(residual < low)
            due = calibrator.add(version, residual)
            if due is not None:
                worker.published(due)
        seasons[season] = counts
        print(
            f"season {season}: {counts['rows']:5d} fees"
            f"  own interval {counts['own'] / counts['rows']:6.1%}"
            f"  calibrated {counts['calibrated'] / counts['rows']:6.1%}"
            f"  (above {counts['above'] / counts['rows']:5.1%},"
            f" below {counts['below'] / counts['rows']:5.1%},"
            f" model's own for the first {counts['fallback']})"
        )
    rows = sum(c["rows"] for c in seasons.values())
    own_all = sum(c["own"] for c in seasons.values()) / rows
    cal_all = sum(c["calibrated"] for c in seasons.values()) / rows
    own_by = {s: c["own"] / c["rows"] for s, c in seasons.items()}
    cal_by = {s: c["calibrated"] / c["rows"] for s, c in seasons.items()}
    load = os.getloadavg()
    print(
        f"overall {rows} fees: own interval {own_all:.1%} (seasons {min(own_by.values()):.1%}-"
        f"{max(own_by.values()):.1%}); calibrated {cal_all:.1%} (seasons {min(cal_by.values()):.1%}-"
        f"{max(cal_by.values()):.1%}); level {config.level:.0%}, window {config.window},"
        f" min labels {config.min_labels}, adapt step {config.adapt_step},"
        f" retrain every {args.retrain_every or 'never'};"
        f" load {load[0]:.2f} {load[1]:.2f} {load[2]:.2f};"
        f" {time.time() - started:.0f} s"
    )
    print(
        json.dumps(
            {
                "rows": rows,
                "retrain_every": args.retrain_every,
                "refresh": args.refresh,
                "delay": args.delay,
                "level": config.level,
                "window": config.window,
                "adapt_step": config.adapt_step,
                "own_coverage": round(own_all, 4),
                "interval_coverage": round(cal_all, 4),
                "own_worst_season_coverage": round(worst(own_by, config.level), 4),
                "worst_season_coverage": round(worst(cal_by, config.level), 4),
                "by_season": {
                    str(s): {"own": round(own_by[s], 4), "calibrated": round(cal_by[s], 4)} for s in seasons
                },
                "load_1m": round(load[0], 2),
            }
        )
    )


if __name__ == "__main__":
    main()
