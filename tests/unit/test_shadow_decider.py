"""The shadow decider with in-memory pairs and a fake registry: join, judge, act, move on."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from modelstore.shadow import ShadowPointer
from monitoring.shadow_decider import ShadowConfig, ShadowDecider
from monitoring.shadow_judge import JudgeConfig
from monitoring.shadow_pairs import MemoryPairs
from schemas.evidence import ShadowEvidence
from schemas.examples import example_of
from schemas.predictions import PredictionResult
from schemas.records import TransferCompleted


@dataclass
class FakeRegistry:
    """The shadow slot and the champion, and the lifecycle events the decider caused."""

    slot: ShadowPointer | None = None
    champion: str = "1"
    events: list[tuple[str, str, ShadowEvidence | None]] = field(default_factory=list)
    guard: bool = True

    def current_shadow(self) -> ShadowPointer | None:
        return self.slot

    def promote_existing(
        self, version: str, reason: str, evidence: ShadowEvidence | None = None, trace_id: str | None = None
    ) -> None:
        previous, self.champion = self.champion, version
        self.slot = ShadowPointer(previous, "guard", version, 100.0) if self.guard else None
        self.events.append(("promoted", version, evidence))

    def reject(
        self, version: str, reason: str, *_: object, evidence: ShadowEvidence | None = None, **__: object
    ) -> None:
        self.events.append(("rejected", version, evidence))

    def rollback(self, to_version: str, reason: str, evidence: ShadowEvidence | None = None) -> None:
        self.champion, self.slot = to_version, None
        self.events.append(("rolled_back", to_version, evidence))

    def end_shadow(self, pointer: ShadowPointer) -> bool:
        if self.slot is not None and self.slot.session == pointer.session:
            self.slot = None
            return True
        return False


CONFIG = ShadowConfig(JudgeConfig(min_pairs=30, max_pairs=200, max_age_s=1e9), guardrail_window=60)


def result(transfer: str, version: str, fee: float) -> PredictionResult:
    return example_of(
        PredictionResult,
        request_id=f"r-{transfer}",
        transfer_id=transfer,
        model_version=version,
        predicted_fee_eur_m=fee,
    )


def label(transfer: str, fee: float) -> TransferCompleted:
    return example_of(TransferCompleted, transfer_id=transfer, fee_eur_m=fee)


def feed(
    decider: ShadowDecider, n: int, champion: tuple[str, float], shadow: tuple[str, float], start: int = 0
) -> None:
    """n labelled requests; each model's log error is its given error times a shared noise."""
    rng = np.random.default_rng(start)
    for i in range(start, start + n):
        fee = float(rng.uniform(1, 50))
        noise = float(rng.uniform(0.5, 1.5))
        decider.observe_label(label(f"t{i}", fee))  # labels may come first
        for (version, error), is_shadow in ((champion, False), (shadow, True)):
            predicted = math.expm1(math.log1p(fee) + error * noise)
            decider.observe_result(result(f"t{i}", version, predicted), shadow=is_shadow)


def make(registry: FakeRegistry) -> ShadowDecider:
    decider = ShadowDecider(registry, MemoryPairs(), CONFIG, clock=lambda: 200.0)
    decider.refresh()
    return decider


def test_a_clearly_better_challenger_is_promoted_with_its_evidence_and_then_guarded() -> None:
    registry = FakeRegistry(slot=ShadowPointer("2", "challenger", "1", 100.0))
    decider = make(registry)
    feed(decider, 10, ("1", 0.8), ("2", 0.2))
    assert decider.decide() is None  # fewer than min_pairs
    feed(decider, 40, ("1", 0.8), ("2", 0.2), start=10)
    verdict = decider.decide()
    assert verdict is not None and verdict.decision.verdict == "promote"
    kind, version, evidence = registry.events[-1]
    assert (kind, version) == ("promoted", "2") and evidence is not None
    assert evidence.pairs == 50 and evidence.challenger_mean_error < evidence.champion_mean_error
    assert evidence.p_value is not None and evidence.p_value < 0.05
    assert decider.pointer is not None and decider.pointer.role == "guard"  # the old champion, now guarding


def test_a_worse_challenger_is_rejected_and_leaves_the_slot() -> None:
    registry = FakeRegistry(slot=ShadowPointer("2", "challenger", "1", 100.0))
    decider = make(registry)
    feed(decider, 40, ("1", 0.2), ("2", 0.8))
    verdict = decider.decide()
    assert verdict is not None and verdict.decision.verdict == "reject"
    assert registry.events[-1][:2] == ("rejected", "2") and registry.slot is None
    assert registry.champion == "1"


def test_results_of_other_versions_and_free_transfers_make_no_pairs() -> None:
    registry = FakeRegistry(slot=ShadowPointer("2", "challenger", "1", 100.0))
    decider = make(registry)
    feed(decider, 40, ("9", 0.8), ("2", 0.2))  # a champion version the slot does not name
    decider.observe_label(label("free", 0.0))
    assert decider.pairs.count(registry.slot.session) == 0 and decider.decide() is None  # type: ignore[union-attr]


def test_a_bad_new_champion_is_rolled_back_within_the_guardrail_window() -> None:
    registry = FakeRegistry(slot=ShadowPointer("1", "guard", "2", 100.0), champion="2")
    decider = make(registry)
    feed(decider, 40, ("2", 0.9), ("1", 0.2))  # the new champion (2) does much worse
    verdict = decider.decide()
    assert verdict is not None and verdict.decision.verdict == "rollback"
    assert registry.events[-1][:2] == ("rolled_back", "1") and registry.champion == "1"


def test_a_good_promotion_is_kept_once_the_window_passed() -> None:
    registry = FakeRegistry(slot=ShadowPointer("1", "guard", "2", 100.0), champion="2")
    decider = make(registry)
    feed(decider, 60, ("2", 0.5), ("1", 0.5))
    verdict = decider.decide()
    assert verdict is not None and verdict.decision.verdict == "keep"
    assert registry.slot is None and registry.events == []


def test_a_newer_challenger_starts_a_new_judgement_and_the_old_pairs_are_dropped() -> None:
    registry = FakeRegistry(slot=ShadowPointer("2", "challenger", "1", 100.0))
    decider = make(registry)
    feed(decider, 20, ("1", 0.8), ("2", 0.2))
    old = registry.slot
    registry.slot = ShadowPointer("3", "challenger", "1", 150.0)
    decider.refresh()
    assert old is not None and decider.pairs.count(old.session) == 0
    feed(decider, 40, ("1", 0.8), ("2", 0.2), start=20)  # version 2's results no longer count
    assert decider.decide() is None


def test_a_guard_judges_only_the_pairs_inside_its_window_even_when_a_batch_brings_more() -> None:
    registry = FakeRegistry(slot=ShadowPointer("1", "guard", "2", 100.0), champion="2")
    decider = make(registry)
    feed(decider, 90, ("2", 0.9), ("1", 0.2))  # one batch, past the window of 60
    verdict = decider.decide()
    assert verdict is not None and verdict.decision.verdict == "rollback"
    assert verdict.decision.evidence.pairs == CONFIG.guardrail_window


def test_the_verdict_by_time_comes_from_the_idle_timer_with_the_evidence_so_far() -> None:
    now = [150.0]
    registry = FakeRegistry(slot=ShadowPointer("2", "challenger", "1", 100.0))
    timed = ShadowConfig(JudgeConfig(min_pairs=30, max_pairs=200, max_age_s=100.0), guardrail_window=60)
    decider = ShadowDecider(registry, MemoryPairs(), timed, clock=lambda: now[0])
    decider.refresh()
    feed(decider, 12, ("1", 0.5), ("2", 0.5))  # fewer than min_pairs, then the labels stop
    assert decider.decide() is None
    assert decider.decide_if_overdue() is None and not registry.events  # 50 s in shadow of 100
    now[0] = 200.0
    verdict = decider.decide_if_overdue()
    assert verdict is not None and verdict.decision.verdict == "reject"
    assert "in shadow" in verdict.decision.reason
    kind, version, evidence = registry.events[-1]
    assert (kind, version) == ("rejected", "2") and evidence is not None
    assert evidence.pairs == 12 and evidence.age_s == 100.0
    assert registry.slot is None and decider.pointer is None
    assert decider.decide_if_overdue() is None and len(registry.events) == 1  # decided once


def test_a_guard_has_no_verdict_by_time() -> None:
    registry = FakeRegistry(slot=ShadowPointer("1", "guard", "2", 0.0))
    decider = make(registry)  # clock 200 s, max_age_s 1e9: and a guard is never overdue anyway
    decider.config = ShadowConfig(JudgeConfig(min_pairs=30, max_pairs=200, max_age_s=1.0), 60)
    assert not decider.overdue() and decider.decide_if_overdue() is None and not registry.events
