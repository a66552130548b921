"""The shadow judge: paired Wilcoxon on absolute log-fee errors, with its evidence."""

from __future__ import annotations

import numpy as np
import pytest

from monitoring.shadow_judge import JudgeConfig, guardrail, judge

CONFIG = JudgeConfig(alpha=0.05, min_pairs=50, max_pairs=400, max_age_s=3600.0)


def errors(n: int, seed: int, scale: float = 0.6) -> np.ndarray:
    return np.abs(np.random.default_rng(seed).normal(0.0, scale, n))


def test_a_clearly_better_challenger_is_promoted_with_its_evidence() -> None:
    champion = errors(200, 1)
    challenger = champion * 0.7  # the same requests, 30 % smaller errors
    decision = judge(champion, challenger, CONFIG, champion_version="3", age_s=60.0)
    assert decision.verdict == "promote"
    evidence = decision.evidence
    assert evidence.pairs == 200 and evidence.champion_version == "3"
    assert evidence.p_value is not None and evidence.p_value < CONFIG.alpha
    assert evidence.challenger_mean_error < evidence.champion_mean_error
    assert evidence.interval_low is not None and evidence.interval_high is not None
    assert evidence.interval_low <= evidence.mean_difference <= evidence.interval_high < 0


def test_too_few_pairs_stay_undecided_however_good() -> None:
    champion = errors(20, 2)
    decision = judge(champion, champion * 0.5, CONFIG, champion_version="3", age_s=10.0)
    assert decision.verdict == "undecided" and decision.evidence.pairs == 20


def test_an_equal_challenger_waits_then_is_rejected_at_the_maximum() -> None:
    champion = errors(600, 3)
    noise = np.random.default_rng(4).normal(0.0, 0.05, 600)
    challenger = np.abs(champion + noise)
    early = judge(champion[:150], challenger[:150], CONFIG, champion_version="3", age_s=60.0)
    assert early.verdict == "undecided"
    assert early.evidence.p_value is not None and early.evidence.p_value >= CONFIG.alpha
    at_max = judge(champion[:400], challenger[:400], CONFIG, champion_version="3", age_s=60.0)
    assert at_max.verdict == "reject" and "400 pairs" in at_max.reason
    too_old = judge(champion[:150], challenger[:150], CONFIG, champion_version="3", age_s=7200.0)
    assert too_old.verdict == "reject" and "in shadow" in too_old.reason


def test_a_worse_challenger_is_rejected() -> None:
    champion = errors(200, 5)
    decision = judge(champion, champion * 1.4 + 0.05, CONFIG, champion_version="3", age_s=60.0)
    assert decision.verdict == "reject" and "worse" in decision.reason
    assert decision.evidence.mean_difference > 0


def test_identical_models_give_no_evidence() -> None:
    champion = errors(100, 6)
    decision = judge(champion, champion, CONFIG, champion_version="3", age_s=1.0)
    assert decision.verdict == "undecided" and decision.evidence.p_value == 1.0


def test_the_guardrail_rolls_back_a_worse_new_champion() -> None:
    previous = errors(200, 7)
    decision = guardrail(previous, previous * 1.5, CONFIG, previous_version="3", age_s=60.0, window=300)
    assert decision.verdict == "rollback"
    assert decision.evidence.champion_version == "3" and decision.evidence.p_value is not None
    assert decision.evidence.p_value < CONFIG.alpha


def test_the_guardrail_keeps_a_sound_promotion_once_its_window_passed() -> None:
    previous = errors(300, 8)
    better = previous * 0.8
    assert guardrail(
        previous[:100], better[:100], CONFIG, previous_version="3", age_s=1.0, window=300
    ).verdict == ("undecided")
    assert guardrail(previous, better, CONFIG, previous_version="3", age_s=1.0, window=300).verdict == "keep"


def test_unpaired_or_negative_errors_are_refused() -> None:
    with pytest.raises(ValueError, match="paired"):
        judge([0.1, 0.2], [0.1], CONFIG, champion_version="3", age_s=0.0)
    with pytest.raises(ValueError, match="absolute"):
        judge([0.1, -0.2], [0.1, 0.2], CONFIG, champion_version="3", age_s=0.0)
    with pytest.raises(ValueError, match="min_pairs"):
        JudgeConfig(min_pairs=10, max_pairs=5)
