"""Point-in-time training sets: replay events through the serving code path.

For each paid transfer the vector is computed from a replayed request *before* the transfer
is applied, exactly as a worker sees a request before its fee; the vector would exclude the
transfer anyway (same transfer_id), so the order is a second guard, not the only one.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from features.store import InMemoryFeatureStore
from features.update import PlayerEvent, log_fee
from features.vector import FEATURE_NAMES
from schemas.predictions import request_from_transfer
from schemas.records import TransferCompleted

LABEL = "log_fee"
EXTRA_COLUMNS: tuple[str, ...] = (LABEL, "fee_eur_m", "season", "transferred_at", "transfer_id")


def build_training_set(events: Iterable[PlayerEvent], min_fee_eur_m: float = 0.0) -> pd.DataFrame:
    """One row per paid transfer (fee > max(min_fee_eur_m, 0)), in the order of events.

    Season records (PlayerSeasonStats) may come anywhere in the events: the state keeps
    them all and a vector reads only those known before the request.

    Columns: FEATURE_NAMES, then log_fee (the label, log1p), fee_eur_m, season,
    transferred_at (UTC) and transfer_id.
    """
    builder = TrainingSetBuilder(min_fee_eur_m)
    builder.extend(events)
    return builder.frame()


class TrainingSetBuilder:
    """build_training_set that can go on: events appended later extend the same replay.

    Only for events that come after every event applied so far (a row, once built, never
    sees a later event): a caller with anything else starts a new builder.
    """

    def __init__(self, min_fee_eur_m: float = 0.0) -> None:
        self._store = InMemoryFeatureStore()
        self._threshold = max(min_fee_eur_m, 0.0)
        self._rows: list[list[float]] = []
        self._labels: list[tuple[float, float, int, object, str]] = []
        self.applied = 0  # events replayed so far

    def extend(self, events: Iterable[PlayerEvent]) -> None:
        for event in events:
            if isinstance(event, TransferCompleted) and event.fee_eur_m > self._threshold:
                features = self._store.vector_for(request_from_transfer(event))
                self._rows.append([features[name] for name in FEATURE_NAMES])
                fee = event.fee_eur_m
                self._labels.append(
                    (log_fee(fee), fee, event.season, event.transferred_at, event.transfer_id)
                )
            self._store.apply(event)
            self.applied += 1

    def frame(self) -> pd.DataFrame:
        frame = pd.DataFrame(self._rows, columns=list(FEATURE_NAMES), dtype="float64")
        extra = pd.DataFrame(self._labels, columns=list(EXTRA_COLUMNS))
        frame[LABEL] = extra[LABEL].astype("float64")
        frame["fee_eur_m"] = extra["fee_eur_m"].astype("float64")
        frame["season"] = extra["season"].astype("int64")
        frame["transferred_at"] = pd.to_datetime(extra["transferred_at"], utc=True)
        frame["transfer_id"] = extra["transfer_id"].astype("object")
        return frame
