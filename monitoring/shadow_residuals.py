"""The residuals of the model in shadow on the real fees, for the interval calibrator.

A challenger in shadow scores every request beside the champion (predictions.shadow) for
hundreds of labelled fees before its verdict; those residuals are the same evidence the
calibrator keeps for a serving version, out of its training period. Fed to the calibrator
under the shadow's own version, they make its calibrated bounds ready by the time it is
promoted: the first window it serves, answered in a burst before its first labels are
back, is no longer scored with the interval measured at training time. A previous
champion kept in shadow as the guardrail keeps its bounds fresh the same way.

Its own join (not the drift monitor's: a transfer has a champion and a shadow prediction),
in memory only: a restart loses the pending halves, the calibrator then waits for labels.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from monitoring.windows import Label, Outcome, OutcomeJoin, Prediction
from schemas.predictions import PredictionResult
from schemas.records import TransferCompleted


class ShadowResiduals:
    """Joins shadow results to their real fees; each outcome goes to ``on_outcome``."""

    def __init__(self, on_outcome: Callable[[Outcome], None], pending_limit: int) -> None:
        self._on_outcome = on_outcome
        self._join = OutcomeJoin(pending_limit)

    def on_result(self, result: PredictionResult) -> None:
        fee = result.predicted_fee_eur_m
        if result.status != "ok" or not result.transfer_id or result.model_version is None or fee is None:
            return
        prediction = Prediction(math.log1p(fee), result.model_version)
        self._emit(self._join.add_prediction(result.transfer_id, prediction))

    def on_label(self, transfer: TransferCompleted) -> None:
        if transfer.fee_eur_m <= 0:  # the models are trained on paid transfers only
            return
        label = Label(math.log1p(transfer.fee_eur_m), transfer.transferred_at)
        self._emit(self._join.add_label(transfer.transfer_id, label))

    def _emit(self, outcome: Outcome | None) -> None:
        if outcome is not None:
            self._on_outcome(outcome)
