"""The evidence a shadow verdict carries: what was compared, and how sure the test is."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


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
