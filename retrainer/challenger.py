"""Champion against challenger on the most recent labelled transfers, held out from training."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd

from features.vector import FEATURE_NAMES
from modelstore.artifact import ModelArtifact
from retrainer.exceptions import NotEnoughNewData
from retrainer.training import MIN_TRAIN_ROWS, TrainingConfig, evaluate, fit_estimator, train_model
from retrainer.window import TrainingWindow
from schemas.evidence import HoldoutEvidence


@dataclass(frozen=True)
class Comparison:
    challenger: ModelArtifact  # refitted on everything, holdout included: what would serve
    challenger_metrics: dict[str, float]  # on the holdout, fitted without it
    champion_metrics: dict[str, float]  # on the same holdout ({} without a champion)
    margin: float
    champion_version: str | None = None
    holdout_from: datetime | None = None  # the held-out transfers' time span
    holdout_to: datetime | None = None

    @property
    def evidence(self) -> HoldoutEvidence:
        """The gate's figures as the decision event carries them ("first": no champion)."""
        new, old = self.challenger_metrics, self.champion_metrics
        first = not old
        return HoldoutEvidence(
            method="first" if first else "holdout",
            rows=int(new["rows"]),
            champion_version=None if first else self.champion_version,
            champion_mean_error=old.get("mae_log"),
            challenger_mean_error=new["mae_log"],
            champion_mae_eur_m=old.get("mae_eur_m"),
            challenger_mae_eur_m=new.get("mae_eur_m"),
            margin=None if first else self.margin,
            holdout_from=self.holdout_from,
            holdout_to=self.holdout_to,
        )

    @property
    def better(self) -> bool:
        """The challenger wins when its MAE on log fee beats the champion's by the margin."""
        if not self.champion_metrics:
            return True
        return self.challenger_metrics["mae_log"] <= self.champion_metrics["mae_log"] * (1 - self.margin)

    @property
    def reason(self) -> str:
        new = self.challenger_metrics["mae_log"]
        if not self.champion_metrics:
            return f"no champion to beat (challenger holdout MAE log {new:.4f})"
        old = self.champion_metrics["mae_log"]
        verdict = "beats" if self.better else "does not beat"
        return (
            f"challenger holdout MAE log {new:.4f} {verdict} champion {old:.4f} "
            f"by the required {self.margin:.0%} (rows {int(self.challenger_metrics['rows'])})"
        )


MIN_HOLDOUT_ROWS = 50
__all__ = ["MIN_HOLDOUT_ROWS", "Comparison", "NotEnoughNewData", "compare", "split_holdout"]


def split_holdout(
    frame: pd.DataFrame, holdout_rows: int, unseen_after: pd.Timestamp | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(train, holdout): the most recent rows, none of which the champion has trained on.

    Only rows after ``unseen_after`` (the champion's training cut-off) can judge fairly: the
    champion has seen the others. Of those new rows the later half at most is held out, so
    the challenger also learns from part of what is new, and never more than
    ``holdout_rows``. Without a champion, the most recent third at most.
    """
    frame = frame.sort_values("transferred_at", kind="stable").reset_index(drop=True)
    if unseen_after is None:
        size = min(holdout_rows, len(frame) // 3)
    else:
        unseen = int((pd.to_datetime(frame["transferred_at"], utc=True) > unseen_after).sum())
        size = min(holdout_rows, unseen // 2)
        if size < MIN_HOLDOUT_ROWS:
            raise NotEnoughNewData(
                f"only {unseen} paid transfers since the champion's training window "
                f"(need {2 * MIN_HOLDOUT_ROWS} to hold out {MIN_HOLDOUT_ROWS})"
            )
    return frame.iloc[: len(frame) - size], frame.iloc[len(frame) - size :]


def compare(
    frame: pd.DataFrame,
    champion: ModelArtifact | None,
    model_name: str,
    window: TrainingWindow,
    holdout_rows: int,
    margin: float,
    tags: dict[str, str] | None = None,
) -> Comparison:
    """Train a challenger without the holdout, score both models on it, refit the challenger."""
    cutoff = pd.Timestamp(champion.metadata.train_to) if champion is not None else None
    train, holdout = split_holdout(frame, holdout_rows, cutoff)
    rows, weights = window.select(train)
    # Only scored on the holdout: one fit, the model train_model would return, without its
    # validation fit (whose metrics nobody reads here); ``train`` is already in time order.
    held_out = fit_estimator(_trainable(rows), TrainingConfig(), weights)
    holdout_vectors = holdout[list(FEATURE_NAMES)].to_numpy(dtype=float)
    challenger_metrics = evaluate(held_out.predict(holdout_vectors), holdout)
    champion_metrics = _score(champion, holdout) if champion is not None else {}
    everything, all_weights = window.select(frame)
    final = train_model(everything, model_name, sample_weight=all_weights, tags=tags)
    span = pd.to_datetime(holdout["transferred_at"], utc=True)
    return Comparison(
        final,
        challenger_metrics,
        champion_metrics,
        margin,
        champion_version=champion.version if champion is not None else None,
        holdout_from=span.min().to_pydatetime() if len(span) else None,
        holdout_to=span.max().to_pydatetime() if len(span) else None,
    )


def _trainable(rows: pd.DataFrame) -> pd.DataFrame:
    if len(rows) < MIN_TRAIN_ROWS:
        raise ValueError(f"need at least {MIN_TRAIN_ROWS} paid transfers to train, got {len(rows)}")
    return rows


def _score(model: ModelArtifact, holdout: pd.DataFrame) -> dict[str, float]:
    names = list(model.feature_names) if set(model.feature_names) <= set(FEATURE_NAMES) else None
    if names is None:
        raise ValueError(f"model {model.version} uses features this code does not compute")
    predictions = np.asarray(model.predict(holdout[names].to_numpy(dtype=float)))
    return evaluate(predictions, holdout)
