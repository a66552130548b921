"""Which history a challenger learns from: all of it, the last K seasons, or time-decayed."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class TrainingWindow:
    kind: str  # "all" | "seasons" | "decay"
    amount: float = 0.0  # K seasons, or the half-life H in seasons

    @classmethod
    def parse(cls, text: str) -> TrainingWindow:
        """'all', 'seasons:K' or 'decay:H' (the format of MLOPS_FC_RETRAIN_WINDOW)."""
        kind, _, amount = text.partition(":")
        if kind == "all" and not amount:
            return cls("all")
        if kind in ("seasons", "decay") and amount:
            value = float(amount)
            if value > 0:
                return cls(kind, value)
        raise ValueError(f"training window {text!r}: expected 'all', 'seasons:K' or 'decay:H' with K, H > 0")

    def select(self, frame: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray | None]:
        """The rows to train on and their sample weights (None: all equal)."""
        if frame.empty or self.kind == "all":
            return frame, None
        latest = int(frame["season"].max())
        if self.kind == "seasons":
            kept = frame[frame["season"] > latest - self.amount]
            return kept, None
        age = (latest - frame["season"].to_numpy(dtype=float)) / self.amount
        return frame, np.power(0.5, age)

    def __str__(self) -> str:
        return "all" if self.kind == "all" else f"{self.kind}:{self.amount:g}"
