"""The shadow verdicts: join late labels to both predictions, judge, and act through the registry.

Fed by the monitor's loop: champion results (predictions.results), shadow results
(predictions.shadow) and real fees (transfers.completed). The shadow slot
(modelstore/shadow.py) says what is being judged:

- a ``challenger``: after ``min_pairs`` labelled pairs the paired test of
  monitoring/shadow_judge.judge runs; significantly better promotes it (ModelPromoted with
  the evidence, through the registry's normal path: Redis pointer, MLflow alias, lifecycle
  event, so every worker swaps); significantly worse, or not better after ``max_pairs`` pairs
  or ``max_age_s`` in shadow, rejects it (ModelRejected with the same evidence). The verdict
  by time does not wait for a message: the loop's idle timer calls ``decide_if_overdue``, so
  a challenger whose labels stopped coming is rejected on the evidence so far.
- a ``guard`` (the champion before the last promotion, in shadow shadow mode): the
  guardrail test runs; the new champion significantly worse rolls back to the guard
  (ModelRolledBack with the evidence); after ``window`` pairs without that the guard ends.

Pairs count only when both versions are the ones the slot names: results scored during a
swap by another version are left out. Verdicts are taken once per batch, after it was
handled; the registry announces them, and the slot moves with them.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from modelstore.exceptions import PromotionRefusedError
from modelstore.shadow import ShadowPointer
from monitoring.shadow_judge import Decision, JudgeConfig, guardrail, judge
from monitoring.shadow_pairs import PairStore, Part
from schemas.evidence import ShadowEvidence
from schemas.predictions import PredictionResult
from schemas.records import TransferCompleted
from stack.settings import Settings

log = logging.getLogger(__name__)


class Verdicts(Protocol):
    """What the decider needs of modelstore.lifecycle.Registry."""

    def current_shadow(self) -> ShadowPointer | None: ...

    def promote_existing(
        self, version: str, reason: str, evidence: ShadowEvidence | None = None, trace_id: str | None = None
    ) -> object: ...

    def reject(
        self,
        version: str,
        reason: str,
        challenger: dict[str, float] | None = None,
        champion: dict[str, float] | None = None,
        trace_id: str | None = None,
        evidence: ShadowEvidence | None = None,
    ) -> object: ...

    def rollback(self, to_version: str, reason: str, evidence: ShadowEvidence | None = None) -> object: ...

    def end_shadow(self, pointer: ShadowPointer) -> bool: ...


@dataclass(frozen=True)
class ShadowConfig:
    judge: JudgeConfig
    guardrail_window: int

    @classmethod
    def from_settings(cls, settings: Settings) -> ShadowConfig:
        return cls(
            JudgeConfig(
                alpha=settings.shadow_alpha,
                min_pairs=settings.shadow_min_pairs,
                max_pairs=settings.shadow_max_pairs,
                max_age_s=settings.shadow_max_age_s,
            ),
            settings.shadow_guardrail_window,
        )


@dataclass
class Verdict:
    """A verdict taken, for logs and tests."""

    pointer: ShadowPointer
    decision: Decision


@dataclass
class ShadowDecider:
    verdicts: Verdicts
    pairs: PairStore
    config: ShadowConfig
    clock: Callable[[], float] = time.time
    pointer: ShadowPointer | None = None
    decided: list[Verdict] = field(default_factory=list)
    _judged_at: int = -1  # pair count at the last judgement of this pointer

    def refresh(self) -> None:
        """Read the shadow slot; a judgement that ended (replaced or decided) is forgotten."""
        pointer = self.verdicts.current_shadow()
        if self.pointer is not None and (pointer is None or pointer.session != self.pointer.session):
            self.pairs.drop(self.pointer.session)
        if pointer is None or self.pointer is None or pointer.session != self.pointer.session:
            self._judged_at = -1
        self.pointer = pointer

    # Observations ----------------------------------------------------------------------

    def observe_result(self, result: PredictionResult, *, shadow: bool) -> None:
        pointer = self.pointer
        if pointer is None or not result.transfer_id or result.predicted_fee_eur_m is None:
            return
        if result.status != "ok" or result.model_version != (pointer.version if shadow else pointer.champion):
            return
        part: Part = "shadow" if shadow else "champion"
        self.pairs.add(pointer.session, result.transfer_id, part, math.log1p(result.predicted_fee_eur_m))

    def observe_label(self, transfer: TransferCompleted) -> None:
        if self.pointer is None or transfer.fee_eur_m <= 0:  # the models are trained on paid transfers
            return
        self.pairs.add(self.pointer.session, transfer.transfer_id, "label", math.log1p(transfer.fee_eur_m))

    # Verdicts --------------------------------------------------------------------------

    def overdue(self) -> bool:
        """The challenger held now has been in shadow for the maximum time."""
        pointer = self.pointer
        return (
            pointer is not None
            and pointer.role == "challenger"
            and self.clock() - pointer.since >= self.config.judge.max_age_s
        )

    def decide_if_overdue(self) -> Verdict | None:
        """The verdict by maximum time while no message flows (the monitor's idle timer)."""
        return self.decide() if self.overdue() else None

    def decide(self) -> Verdict | None:
        """Judge the pairs so far; act on a verdict. Called once per handled batch."""
        self.refresh()
        pointer = self.pointer
        if pointer is None:
            return None
        count = self.pairs.count(pointer.session)
        age = max(0.0, self.clock() - pointer.since)
        cfg = self.config.judge
        timed_out = pointer.role == "challenger" and age >= cfg.max_age_s
        if count == self._judged_at and not timed_out:
            return None
        if count < cfg.min_pairs and not timed_out:
            return None
        self._judged_at = count
        champion_errors, shadow_errors = self.pairs.errors(pointer.session)
        # A batch may complete many pairs at once: judge no more than the limit allows, so
        # the evidence is the first max_pairs (challenger) or window (guard) labelled pairs.
        limit = cfg.max_pairs if pointer.role == "challenger" else self.config.guardrail_window
        champion_errors, shadow_errors = champion_errors[:limit], shadow_errors[:limit]
        if pointer.role == "challenger":
            decision = judge(
                champion_errors, shadow_errors, cfg, champion_version=pointer.champion, age_s=age
            )
        else:
            decision = guardrail(
                shadow_errors,
                champion_errors,
                cfg,
                previous_version=pointer.version,
                age_s=age,
                window=self.config.guardrail_window,
            )
        if decision.verdict == "undecided":
            log.info("shadow %s version %s: %s", pointer.role, pointer.version, decision.reason)
            return None
        self._act(pointer, decision)
        verdict = Verdict(pointer, decision)
        self.decided.append(verdict)
        self.refresh()
        return verdict

    def _act(self, pointer: ShadowPointer, decision: Decision) -> None:
        log.warning(
            "shadow verdict on %s version %s: %s (%s)",
            pointer.role,
            pointer.version,
            decision.verdict,
            decision.reason,
        )
        evidence = decision.evidence
        if decision.verdict == "promote":
            try:
                self.verdicts.promote_existing(pointer.version, decision.reason, evidence=evidence)
                return
            except PromotionRefusedError as exc:  # its artifact changed since: it must not serve
                decision = Decision("reject", f"{decision.reason}; but {exc}", evidence)
        if decision.verdict == "reject":
            self.verdicts.reject(pointer.version, decision.reason, evidence=evidence)
            self.verdicts.end_shadow(pointer)
        elif decision.verdict == "rollback":
            self.verdicts.rollback(pointer.version, decision.reason, evidence=evidence)
        elif decision.verdict == "keep":
            self.verdicts.end_shadow(pointer)
