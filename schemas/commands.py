"""Commands: what someone asks the system to do (imperative intent), beside the events of what happened."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from schemas.envelope import Event
from schemas.fields import NonEmptyStr


class RetrainRequested(Event):
    """Someone asked for a retrain now (`mlops-fc retrain`); the retrainer handles it like drift.

    It travels on monitoring.drift, the retrainer's one inbox, so manual and drift-driven
    retrains are handled in the order they were asked for, by the same consumer group.
    A requested retrain skips the cool-down; its challenger still has to beat the champion.
    """

    event_type: Literal["RetrainRequested"] = "RetrainRequested"
    schema_version: Literal[1] = 1
    model_name: NonEmptyStr
    requested_by: NonEmptyStr = Field(description="Who asked: a user name, a service, a CI job.")
    reason: NonEmptyStr = Field(description="Why, in a few words; kept in the challenger's MLflow run.")
