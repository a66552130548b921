"""Interval coverage of the live results: the share of real fees inside the served interval."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping

from schemas.predictions import PredictionResult
from schemas.records import TransferCompleted


def interval_coverage(
    results: Iterable[PredictionResult], transfers: Mapping[str, TransferCompleted]
) -> dict[str, object]:
    """Overall and per season: rows with an interval, covered, above and below shares."""
    by_season: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])  # rows, above, below
    for result in results:
        transfer = transfers.get(result.transfer_id or "")
        low, high = result.interval_low, result.interval_high
        if transfer is None or result.status != "ok" or low is None or high is None:
            continue
        counts = by_season[transfer.season]
        counts[0] += 1
        counts[1] += int(transfer.fee_eur_m > high)
        counts[2] += int(transfer.fee_eur_m < low)

    def shares(rows: int, above: int, below: int) -> dict[str, float | int]:
        if not rows:
            return {"rows": 0}
        return {
            "rows": rows,
            "covered": round(1 - (above + below) / rows, 4),
            "above": round(above / rows, 4),
            "below": round(below / rows, 4),
        }

    total = [sum(c[i] for c in by_season.values()) for i in range(3)]
    return {
        "overall": shares(*total),
        "seasons": {str(season): shares(*c) for season, c in sorted(by_season.items())},
    }
