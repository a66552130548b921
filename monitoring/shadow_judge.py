"""The shadow judge: is a challenger better than the champion on the real fees?

Pure logic. Input: for each labelled request scored by both models, the absolute log-fee
error of each (paired: same request, same label). The test is the one-sided Wilcoxon
signed-rank test on the paired differences (challenger minus champion): it needs no normal
errors and uses the pairing, which removes the request-to-request spread that dwarfs the gap
between two models. The interval is a percentile bootstrap of the mean difference (seeded,
so a decision is reproducible from its pairs).

- ``judge``: promote when the challenger is significantly better (p < alpha) after at least
  ``min_pairs``; reject once ``max_pairs`` or ``max_age_s`` is reached without that;
  otherwise undecided. A challenger significantly worse is rejected at once.
- ``guardrail``: after a promotion the previous champion scores in shadow; when the new
  champion is significantly worse, roll back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy.stats import wilcoxon

from schemas.evidence import ShadowEvidence

Verdict = Literal["promote", "reject", "undecided"]
GuardVerdict = Literal["rollback", "keep", "undecided"]
BOOTSTRAP_SAMPLES = 2000
Errors = Sequence[float] | np.ndarray  # absolute log-fee errors, one per labelled request


@dataclass(frozen=True)
class JudgeConfig:
    """When the evidence suffices; the ``shadow_*`` settings feed it."""

    alpha: float = 0.05
    min_pairs: int = 100
    max_pairs: int = 2000
    max_age_s: float = 30 * 24 * 3600.0
    interval_level: float = 0.95
    seed: int = 0

    def __post_init__(self) -> None:
        if not 0 < self.alpha < 1 or not 0 < self.interval_level < 1:
            raise ValueError("alpha and interval_level must lie strictly between 0 and 1")
        if not 1 <= self.min_pairs <= self.max_pairs:
            raise ValueError("min_pairs must lie in 1..max_pairs")
        if self.max_age_s <= 0:
            raise ValueError("max_age_s must be positive")


@dataclass(frozen=True)
class Decision:
    """A verdict with the evidence it rests on and a one-line reason."""

    verdict: Verdict | GuardVerdict
    reason: str
    evidence: ShadowEvidence


def judge(
    champion_errors: Errors,
    challenger_errors: Errors,
    config: JudgeConfig,
    *,
    champion_version: str,
    age_s: float,
) -> Decision:
    """Promote, reject or wait for a challenger in shadow (errors paired by position)."""
    evidence = _evidence(champion_errors, challenger_errors, config, champion_version, age_s, "less")
    better = _significant(evidence, config)
    worse = _significant(
        _evidence(champion_errors, challenger_errors, config, champion_version, age_s, "greater"), config
    )
    pairs, age = evidence.pairs, f"{age_s / 3600:.1f} h"
    gap = f"mean |log error| {evidence.challenger_mean_error:.4f} vs {evidence.champion_mean_error:.4f}"
    if better:
        return Decision(
            "promote", f"better on {pairs} labelled pairs ({gap}, p={evidence.p_value:.3g})", evidence
        )
    if worse:
        return Decision("reject", f"worse on {pairs} labelled pairs ({gap})", evidence)
    if pairs >= config.max_pairs or age_s >= config.max_age_s:
        limit = f"{pairs} pairs" if pairs >= config.max_pairs else f"{age} in shadow"
        return Decision("reject", f"not better after {limit} ({gap}, p={_p(evidence)})", evidence)
    return Decision("undecided", f"{pairs} pairs so far ({gap}, p={_p(evidence)})", evidence)


def guardrail(
    previous_errors: Errors,
    current_errors: Errors,
    config: JudgeConfig,
    *,
    previous_version: str,
    age_s: float,
    window: int,
) -> Decision:
    """Roll back when the new champion is significantly worse than the one it replaced.

    ``previous_errors`` are the old champion's (now in shadow), ``current_errors`` the new
    one's, paired. Once ``window`` pairs passed without that, the promotion is kept.
    """
    evidence = _evidence(previous_errors, current_errors, config, previous_version, age_s, "greater")
    gap = f"mean |log error| {evidence.challenger_mean_error:.4f} vs {evidence.champion_mean_error:.4f}"
    if _significant(evidence, config):
        reason = f"new champion worse on {evidence.pairs} labelled pairs ({gap}, p={evidence.p_value:.3g})"
        return Decision("rollback", reason, evidence)
    if evidence.pairs >= window:
        return Decision("keep", f"not worse after {evidence.pairs} pairs ({gap}, p={_p(evidence)})", evidence)
    return Decision("undecided", f"{evidence.pairs} pairs so far ({gap}, p={_p(evidence)})", evidence)


def _significant(evidence: ShadowEvidence, config: JudgeConfig) -> bool:
    return (
        evidence.pairs >= config.min_pairs
        and evidence.p_value is not None
        and evidence.p_value < config.alpha
    )


def _p(evidence: ShadowEvidence) -> str:
    return "n/a" if evidence.p_value is None else f"{evidence.p_value:.3g}"


def _evidence(
    reference_errors: Errors,
    candidate_errors: Errors,
    config: JudgeConfig,
    reference_version: str,
    age_s: float,
    alternative: Literal["less", "greater"],
) -> ShadowEvidence:
    reference = np.asarray(reference_errors, dtype="float64")
    candidate = np.asarray(candidate_errors, dtype="float64")
    if reference.shape != candidate.shape or reference.ndim != 1:
        raise ValueError("the two error series must be paired: same length, one dimension")
    if not (np.isfinite(reference).all() and np.isfinite(candidate).all()):
        raise ValueError("errors must be finite")
    if (reference < 0).any() or (candidate < 0).any():
        raise ValueError("errors must be absolute (non-negative)")
    pairs = len(reference)
    differences = candidate - reference
    low, high = _interval(differences, config)
    return ShadowEvidence(
        method="wilcoxon",
        pairs=pairs,
        champion_version=reference_version,
        champion_mean_error=float(reference.mean()) if pairs else 0.0,
        challenger_mean_error=float(candidate.mean()) if pairs else 0.0,
        mean_difference=float(differences.mean()) if pairs else 0.0,
        p_value=_p_value(differences, alternative),
        interval_low=low,
        interval_high=high,
        alpha=config.alpha,
        age_s=max(0.0, float(age_s)),
    )


def _p_value(differences: np.ndarray, alternative: Literal["less", "greater"]) -> float | None:
    if len(differences) == 0:
        return None
    if not differences.any():
        return 1.0  # identical errors everywhere: no evidence either way
    # zsplit keeps zero differences (ties between the models) as evidence of no difference.
    result = wilcoxon(differences, zero_method="zsplit", alternative=alternative)
    return float(min(1.0, max(0.0, result.pvalue)))


def _interval(differences: np.ndarray, config: JudgeConfig) -> tuple[float | None, float | None]:
    if len(differences) < 2:
        return None, None
    rng = np.random.default_rng(config.seed)
    picks = rng.integers(0, len(differences), size=(BOOTSTRAP_SAMPLES, len(differences)))
    means = differences[picks].mean(axis=1)
    tail = (1 - config.interval_level) / 2
    return float(np.quantile(means, tail)), float(np.quantile(means, 1 - tail))
