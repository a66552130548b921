"""After a crash: does the shadow slot still agree with the registry?

Each verdict is two steps: a registry action (the MLflow alias moves, a ModelRejected is
recorded) and then the shadow slot's update. A process that dies between the two leaves a
slot naming a judgement that is already over. Pure rule; modelstore.lifecycle.Registry
applies it when the monitor starts (``reconcile_shadow``), after the verdict's own
announcement was finished from its outbox (modelstore/verdict_outbox.py).

- a challenger that is the champion now: promoted, its guard never started -> ``guard``
  (the previous champion guards it, as after any promotion in shadow mode);
- a challenger rejected, or judged against a champion that no longer serves -> ``clear``;
- a guard that serves again (rolled back to) or guards a promotion that no longer serves
  -> ``clear``;
- anything else is a live judgement -> ``keep``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from modelstore.shadow import ShadowPointer

SlotAction = Literal["keep", "clear", "guard"]


@dataclass(frozen=True)
class Reconciled:
    action: SlotAction
    reason: str


def reconcile(pointer: ShadowPointer | None, champion: str | None, rejected: bool) -> Reconciled:
    """What to do with ``pointer`` given the champion's alias and whether its version was rejected."""
    if pointer is None:
        return Reconciled("keep", "no model in shadow")
    what = f"{pointer.role} version {pointer.version} (against {pointer.champion})"
    if pointer.role == "challenger":
        if pointer.version == champion:
            return Reconciled("guard", f"{what} is the champion now: promoted, its slot never moved")
        if rejected:
            return Reconciled("clear", f"{what} was rejected, its slot never moved")
        if pointer.champion != champion:
            return Reconciled(
                "clear", f"{what} was judged against a champion that no longer serves ({champion})"
            )
        return Reconciled("keep", f"{what} is still being judged")
    if pointer.version == champion:
        return Reconciled("clear", f"{what} serves again: rolled back, its slot never moved")
    if pointer.champion != champion:
        return Reconciled("clear", f"{what} guards a promotion that no longer serves ({champion})")
    return Reconciled("keep", f"{what} is still guarding")
