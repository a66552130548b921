"""Transfermarkt's fee column ("€1.50m", "free transfer", "loan transfer", "?") as a typed value.

The text in ``fee`` is the source of truth; ``fee_cleaned`` is the same figure in millions and
is only cross-checked. Kinds other than ``paid`` and ``free`` are never published as a
TransferCompleted: a made-up fee would poison the label stream (see producers/README.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

FeeKind = Literal["paid", "free", "loan", "loan_fee", "end_of_loan", "unknown", "not_given", "draft"]
USABLE: frozenset[FeeKind] = frozenset({"paid", "free"})
# Why a transfer of each unusable kind is left out: the reason in the ingest summary.
UNUSABLE_REASON: dict[FeeKind, str] = {
    "loan": "loan",
    "loan_fee": "loan_with_fee",
    "end_of_loan": "end_of_loan",
    "unknown": "fee_unknown",
    "not_given": "fee_not_given",
    "draft": "draft",
}

_AMOUNT = re.compile(r"€\s*(?P<number>\d+(?:[.,]\d+)?)\s*(?P<unit>bn|m|th\.?|k)?", re.IGNORECASE)
_MILLIONS = {"bn": 1000.0, "m": 1.0, "th": 0.001, "th.": 0.001, "k": 0.001, None: 0.000001}


class FeeParseError(ValueError):
    """Fee text that matches none of the known forms."""


@dataclass(frozen=True, slots=True)
class Fee:
    """A parsed fee: its kind and, when the text gives one, the amount in EUR millions."""

    kind: FeeKind
    eur_m: float | None = None

    @property
    def usable(self) -> bool:
        """Whether this fee can be a TransferCompleted label (a real fee, possibly 0)."""
        return self.kind in USABLE


def parse_fee(text: str) -> Fee:
    """The fee in ``text``; FeeParseError for text of no known form."""
    value = " ".join(text.split())
    folded = value.casefold()
    if folded == "free transfer":
        return Fee("free", 0.0)
    if folded == "loan transfer":
        return Fee("loan")
    if folded.startswith("loan fee:"):
        return Fee("loan_fee", _amount(value[len("loan fee:") :], text))
    if folded.startswith("end of loan"):
        return Fee("end_of_loan")
    if folded == "?":
        return Fee("unknown")
    if folded in ("", "-"):
        return Fee("not_given")
    if folded == "draft":
        return Fee("draft")
    amount = _amount(value, text)
    return Fee("free", 0.0) if amount == 0 else Fee("paid", amount)


def _amount(value: str, original: str) -> float:
    match = _AMOUNT.fullmatch(value.strip())
    if match is None:
        raise FeeParseError(f"fee {original!r} is not an amount or a known fee text")
    number = float(match["number"].replace(",", "."))
    unit = match["unit"].casefold() if match["unit"] else None
    return round(number * _MILLIONS[unit], 6)


def agrees_with_cleaned(fee: Fee, cleaned: str | None) -> bool:
    """Whether the dataset's own ``fee_cleaned`` (millions, or NA) tells the same amount."""
    if fee.eur_m is None or cleaned is None or cleaned.strip().upper() in ("", "NA"):
        return True
    try:
        other = float(cleaned)
    except ValueError:
        return False
    return abs(other - fee.eur_m) <= max(1e-6, 1e-3 * fee.eur_m)
