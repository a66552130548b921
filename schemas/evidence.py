"""The evidence a decision carries: what was compared, on what, and how sure it is.

Two kinds, told apart by ``method``: a shadow verdict on live labels (``ShadowEvidence``)
and the holdout gate of the retrainer (``HoldoutEvidence``, also for a first model).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from schemas.fields import UtcDatetime


class ShadowEvidence(BaseModel):
    """Paired absolute log-fee errors of two models on the same labelled requests."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, allow_inf_nan=False)

    method: Literal["wilcoxon", "bootstrap"] = Field(description="The paired test used.")
    pairs: int = Field(ge=0, description="Requests labelled and scored by both models.")
    champion_version: str = Field(min_length=1, description="The model compared against.")
    champion_mean_error: float = Field(ge=0, description="Mean |log fee error| of the champion.")
    challenger_mean_error: float = Field(ge=0, description="Mean |log fee error| of the challenger.")
    mean_difference: float = Field(description="Mean of challenger minus champion error (< 0: better).")
    p_value: float | None = Field(default=None, ge=0, le=1, description="One-sided, None if untested.")
    interval_low: float | None = Field(default=None, description="Low bound of the mean difference.")
    interval_high: float | None = Field(default=None, description="High bound of the mean difference.")
    alpha: float = Field(gt=0, lt=1, description="Significance level of the decision.")
    age_s: float = Field(ge=0, description="Seconds from the first pair to the decision.")


class HoldoutEvidence(BaseModel):
    """Both models on the most recent labelled transfers, held out from the challenger's fit.

    ``first``: nothing serves yet, so there is no champion; the figures are the model's own
    validation (its most recent training rows, held out from a first fit).
    """

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, allow_inf_nan=False)

    method: Literal["holdout", "first"] = Field(description="holdout: gate against a champion; first: none.")
    rows: int = Field(ge=0, description="Labelled transfers held out.")
    champion_version: str | None = Field(default=None, min_length=1, description="None for a first model.")
    champion_mean_error: float | None = Field(default=None, ge=0, description="Mean |log fee error|.")
    challenger_mean_error: float = Field(ge=0, description="Mean |log fee error| of the challenger.")
    champion_mae_eur_m: float | None = Field(default=None, ge=0, description="MAE in EUR millions.")
    challenger_mae_eur_m: float | None = Field(default=None, ge=0, description="MAE in EUR millions.")
    margin: float | None = Field(
        default=None, ge=0, lt=1, description="Relative improvement the challenger needed (None: first)."
    )
    holdout_from: UtcDatetime | None = Field(default=None, description="Oldest held-out transfer.")
    holdout_to: UtcDatetime | None = Field(default=None, description="Newest held-out transfer.")

    @model_validator(mode="after")
    def _consistent(self) -> HoldoutEvidence:
        against = (self.champion_version, self.champion_mean_error, self.margin)
        if self.method == "holdout" and None in against:
            raise ValueError("a holdout comparison names the champion, its error and the margin")
        if self.method == "first" and self.champion_version is not None:
            raise ValueError("a first model has no champion")
        if self.holdout_from and self.holdout_to and self.holdout_to < self.holdout_from:
            raise ValueError("holdout_to is before holdout_from")
        return self


# What a promotion or rejection names: one of the two, by ``method`` (their values differ).
DecisionEvidence = ShadowEvidence | HoldoutEvidence
