"""False-alarm rate of feature drift on a stream without shift, before and after the trend rule.

A synthetic world without drift knobs (producers.synthetic, no DriftSpec) is replayed
through the serving feature code (features.training_set). The first ``train_seasons``
seasons stand for the model's training data: their last 2,000 rows, in time order, are the
reference sample, as the trainer stores it. The later rows stream past as the monitor sees
them: every ``check_every`` rows the latest ``window`` rows are checked against the
reference exactly as the monitor checks them (monitoring.feature_check.feature_drift, same
thresholds). Nothing shifted, so every check that fires is a false alarm.

- before: the features compared before the rule (all but the hand list season_index,
  market_365d_log_fee, market_365d_deals);
- after: the features monitoring.feature_kinds.choose_features keeps.

    .venv/bin/python bench/drift_false_alarms.py [--seasons 12] [--per-season 600]

Last line: one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from features.training_set import build_training_set  # noqa: E402
from features.vector import FEATURE_NAMES  # noqa: E402
from monitoring.config import DriftConfig  # noqa: E402
from monitoring.feature_check import feature_drift  # noqa: E402
from monitoring.feature_kinds import choose_features  # noqa: E402
from producers.synthetic import generate  # noqa: E402

REFERENCE_ROWS = 2000  # retrainer.training.REFERENCE_ROWS
FIRST_SEASON = 2005
OLD_HAND_LIST = frozenset({"season_index", "market_365d_log_fee", "market_365d_deals"})


def false_alarms(
    reference: pd.DataFrame, stream: pd.DataFrame, columns: tuple[str, ...], config: DriftConfig
) -> tuple[int, int, list[str]]:
    """(checks, alarms, the features most often drifted) over the stream."""
    checks = alarms = 0
    drifted: dict[str, int] = {}
    for end in range(config.feature_min_rows, len(stream) + 1, config.check_every):
        window = stream.iloc[max(0, end - config.feature_window) : end]
        result = feature_drift(reference, window, columns, config.column_threshold)
        checks += 1
        alarms += result.share >= config.share_threshold
        for name in result.drifted:
            drifted[name] = drifted.get(name, 0) + 1
    top = [name for name, _ in sorted(drifted.items(), key=lambda item: -item[1])[:5]]
    return checks, alarms, top


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seasons", type=int, default=12)
    parser.add_argument("--train-seasons", type=int, default=8)
    parser.add_argument("--per-season", type=int, default=600)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    seasons = range(FIRST_SEASON, FIRST_SEASON + args.seasons)
    frame = build_training_set(generate(args.seed, seasons, args.per_season))
    cut = FIRST_SEASON + args.train_seasons
    history, stream = frame[frame["season"] < cut], frame[frame["season"] >= cut].reset_index(drop=True)
    reference = history[list(FEATURE_NAMES)].tail(REFERENCE_ROWS).reset_index(drop=True)
    config = DriftConfig(model_name="bench")
    print(f"{len(frame)} paid transfers; reference {len(reference)} rows, stream {len(stream)} rows")

    before = tuple(name for name in FEATURE_NAMES if name not in OLD_HAND_LIST)
    choice = choose_features(reference, FEATURE_NAMES, config.trend_p)
    print(f"trend rule (Spearman p < {config.trend_p:g}) leaves out {len(choice.trending)} features:")
    for name, rho in sorted(choice.trending.items(), key=lambda item: -abs(item[1])):
        print(f"  {name:32s} rho {rho:+.3f}")

    figures: dict[str, object] = {"stream_rows": len(stream), "trend_p": config.trend_p}
    for label, columns in (("before", before), ("after", choice.compared)):
        checks, alarms, top = false_alarms(reference, stream, columns, config)
        rate = alarms / checks if checks else 0.0
        print(
            f"{label:6s}: {len(columns)} features, {alarms}/{checks} checks fired ({rate:.0%});"
            f" most drifted: {top}"
        )
        figures |= {
            f"{label}_features": len(columns),
            f"{label}_checks": checks,
            f"{label}_false_alarm_rate": rate,
        }
    figures["left_out"] = sorted(choice.trending)
    print(json.dumps(figures, sort_keys=True))


if __name__ == "__main__":
    main()
