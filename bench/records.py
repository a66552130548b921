"""What the players' season records are worth: the same real-data replay with and without them.

The six Transfermarkt leagues (default ../shared/data/transfers) and the Understat season
file (default ../shared/data/player-stats), read by the ingesters' own code (the stats rows
resolved to the transfer players exactly as `mlops-fc ingest stats` does), replayed through
features.build_training_set, i.e. the update/vector functions the worker runs. "Without"
replays the same transfers without the season records (the record features then say "no
record" everywhere). The record features (features.record): the last two completed seasons
before the request, per-90 rates shrunk toward the position's typical rate, xG+xA per 90,
the trend between the two seasons, career minutes, the league of the main team, the share of
the team's league minutes he played (and the xG+xA rate weighted by it), his minutes if under 23,
and his team's strength (its xG and goals per game) and his share of its xG+xA and of its xG.
Prequential: for each season 2016..2022, a model (the retrainer's estimator and
configuration, retrainer.training.fit_estimator) is fitted on every paid transfer of
earlier seasons and predicts that season's paid transfers.

    .venv/bin/python bench/records.py [--transfers PATH] [--stats PATH] [--first 2016] [--last 2022]
                                      [--seeds 5]

Each season's fit runs with --seeds seeds (the config's random_state and the next ones) in
both arms when the estimator early-stops: its random validation split moved the gain by
about a point from one seed to another, so the MAE and R^2 printed are the seed-means and
the gain of each seed is printed beside them. The retrainer's configuration no longer
early-stops (retrainer.training.TrainingConfig): a fit then draws nothing at random, every
seed is the same fit, and one fit per season and arm serves them all.

Printed: per season, MAE in EUR millions and R^2 on log fee for both runs and the share of
requests that had a record; the last line is one JSON object with mae_with_records,
mae_without_records, seasons_better and record_share.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the project, before bench/

from features.training_set import build_training_set  # noqa: E402
from features.vector import FEATURE_NAMES  # noqa: E402
from producers.stats import resolve_stats  # noqa: E402
from producers.stats_match import PlayerIndex  # noqa: E402
from producers.transfermarkt import read_transfers_csv  # noqa: E402
from retrainer.training import TrainingConfig, fit_estimator  # noqa: E402

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
TARGET_GAIN = 0.04
TARGET_SEASONS = 5


def prequential(frame: pd.DataFrame, first: int, last: int, seeds: int) -> pd.DataFrame:
    """Per request of seasons first..last: the fee, whether it had a record, and one
    prediction per seed (columns predicted_log_0..): the estimator's early stopping draws a
    random validation split, so one seed is one draw of the gain, not the gain."""
    base = TrainingConfig()
    draws = seeds if base.early_stopping else 1  # without early stopping a seed changes nothing
    configs = [replace(base, random_state=base.random_state + k) for k in range(draws)]
    parts = []
    for season in range(first, last + 1):
        train, test = frame[frame["season"] < season], frame[frame["season"] == season]
        if test.empty:
            continue
        features = test[list(FEATURE_NAMES)].to_numpy(dtype=float)
        part = pd.DataFrame(
            {
                "season": season,
                "fee": test["fee_eur_m"].to_numpy(),
                "log_fee": test["log_fee"].to_numpy(),
                "has_record": test["has_record"].to_numpy(),
            }
        )
        for k, config in enumerate(configs):
            part[f"predicted_log_{k}"] = fit_estimator(train, config).predict(features)
        for k in range(draws, seeds):
            part[f"predicted_log_{k}"] = part["predicted_log_0"]
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


def scores(judged: pd.DataFrame, seed: int) -> dict[str, float]:
    predicted = judged[f"predicted_log_{seed}"].to_numpy()
    fee_hat = np.maximum(np.expm1(predicted), 0.0)
    truth = judged["log_fee"].to_numpy()
    spread = float(np.sum((truth - truth.mean()) ** 2))
    residual = float(np.sum((truth - predicted) ** 2))
    return {
        "rows": float(len(judged)),
        "mae": float(np.mean(np.abs(judged["fee"].to_numpy() - fee_hat))),
        "r2_log": 1.0 - residual / spread if spread > 0 else 0.0,
        "record_share": float(judged["has_record"].mean()),
    }


def seed_mean(judged: pd.DataFrame, seeds: int) -> dict[str, float]:
    """The scores averaged over the seeds (rows and record share do not depend on them)."""
    each = [scores(judged, k) for k in range(seeds)]
    return {name: float(np.mean([one[name] for one in each])) for name in each[0]}


def run(transfers_path: Path, stats_path: Path, first: int, last: int, seeds: int) -> dict[str, Any]:
    started = time.perf_counter()
    transfers = read_transfers_csv([transfers_path])
    index = PlayerIndex.build(transfers.transfers, transfers.aliases)
    stats = resolve_stats([stats_path], index)
    reasons = ", ".join(f"{reason} {count}" for reason, count in sorted(stats.unmatched_reasons.items()))
    print(
        f"stats rows {stats.rows_read}: matched {stats.matched}, ambiguous {stats.ambiguous}, "
        f"unmatched {stats.unmatched} ({reasons}), "
        f"bad {len(stats.unparseable)}: match rate "
        f"{stats.matched / max(stats.rows_read, 1):.1%} ({stats.players_matched} players; "
        f"read in {time.perf_counter() - started:.0f}s)"
    )
    with_records = build_training_set([*stats.events, *transfers.transfers])
    without = build_training_set(transfers.transfers)
    judged_with = prequential(with_records, first, last, seeds)
    judged_without = prequential(without, first, last, seeds)
    print(
        f"{'season':>6} {'rows':>5} {'record':>7} {'MAE with':>9} {'MAE w/o':>8} {'R2 with':>8} {'R2 w/o':>7}"
    )
    better = 0
    per_season = []
    for season in sorted(judged_with["season"].unique()):
        a = seed_mean(judged_with[judged_with["season"] == season], seeds)
        b = seed_mean(judged_without[judged_without["season"] == season], seeds)
        better += a["mae"] < b["mae"]
        per_season.append({"season": int(season), "with": a, "without": b})
        print(
            f"{season:>6} {a['rows']:>5.0f} {a['record_share']:>7.1%} {a['mae']:>9.3f} {b['mae']:>8.3f} "
            f"{a['r2_log']:>8.3f} {b['r2_log']:>7.3f}"
        )
    total_with, total_without = seed_mean(judged_with, seeds), seed_mean(judged_without, seeds)
    print(
        f"{'all':>6} {total_with['rows']:>5.0f} {total_with['record_share']:>7.1%} {total_with['mae']:>9.3f} "
        f"{total_without['mae']:>8.3f} {total_with['r2_log']:>8.3f} {total_without['r2_log']:>7.3f}"
    )
    gain = 1.0 - total_with["mae"] / total_without["mae"]
    # The gain of each seed (both arms fitted with it): its spread says how far one draw is
    # from the mean the target is judged on.
    gains = [1.0 - scores(judged_with, k)["mae"] / scores(judged_without, k)["mae"] for k in range(seeds)]
    print(
        f"gain per seed ({seeds} seeds from {TrainingConfig().random_state}"
        + ("" if TrainingConfig().early_stopping else ", no early stopping: one fit")
        + "): "
        + ", ".join(f"{one:+.2%}" for one in gains)
        + f"; mean {np.mean(gains):+.2%}, sd {np.std(gains, ddof=1) if seeds > 1 else 0.0:.2%}"
    )
    print(
        f"MAE {gain:+.2%} lower with records (target {TARGET_GAIN:.0%}), better in {better} of "
        f"{len(per_season)} seasons (target {TARGET_SEASONS}); {time.perf_counter() - started:.0f}s, "
        f"load {os.getloadavg()[0]:.1f}"
    )
    return {
        "mae_with_records": round(total_with["mae"], 4),
        "mae_without_records": round(total_without["mae"], 4),
        "r2_log_with_records": round(total_with["r2_log"], 4),
        "r2_log_without_records": round(total_without["r2_log"], 4),
        "mae_gain": round(gain, 4),
        "seeds": seeds,
        "mae_gain_per_seed": [round(one, 4) for one in gains],
        "mae_gain_seed_sd": round(float(np.std(gains, ddof=1)) if seeds > 1 else 0.0, 4),
        "seasons_better": int(better),
        "seasons": len(per_season),
        "record_share": round(total_with["record_share"], 4),
        "stats_rows_matched": stats.matched,
        "stats_rows_ambiguous": stats.ambiguous,
        "stats_rows_unmatched": stats.unmatched,
        "stats_rows_unmatched_reasons": dict(sorted(stats.unmatched_reasons.items())),
        "stats_match_rate": round(stats.matched / max(stats.rows_read, 1), 4),
        "load_1m": round(os.getloadavg()[0], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--transfers", type=Path, default=SHARED / "transfers", help="Transfermarkt CSV folder"
    )
    parser.add_argument("--stats", type=Path, default=SHARED / "player-stats", help="Understat season files")
    parser.add_argument("--first", type=int, default=2016, help="First season judged")
    parser.add_argument("--last", type=int, default=2022, help="Last season judged")
    parser.add_argument(
        "--seeds", type=int, default=5, help="Estimator seeds per season and arm; scores are their mean"
    )
    args = parser.parse_args()
    for path in (args.transfers, args.stats):
        if not path.exists():
            sys.exit(f"{path} is not there: pass --transfers/--stats, or run `mlops-fc data fetch`")
    print(json.dumps(run(args.transfers, args.stats, args.first, args.last, max(args.seeds, 1))))


if __name__ == "__main__":
    main()
