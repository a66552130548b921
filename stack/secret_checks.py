"""Why a secret is too weak for production, or None: the rules behind the settings' validator.

A placeholder copied from .env.example, a short key, or one with stray whitespace from a
shell or a YAML file all pass as "set" while protecting nothing (or not matching what the
other side holds), so production refuses them at start-up rather than at the first attack.
"""

from __future__ import annotations

MIN_LENGTH = 16
MIN_DISTINCT = 8
# Lower-cased, letters and digits only: "CHANGE_ME", "change-me" and "ChangeMe" are one word.
PLACEHOLDER_MARKERS = ("change", "devonly", "placeholder", "example", "default")


def weakness(value: str) -> str | None:
    """What is wrong with ``value`` as a production secret (never the value itself)."""
    if value != value.strip():
        return "starts or ends with whitespace"
    if len(value) < MIN_LENGTH:
        return f"is shorter than {MIN_LENGTH} characters"
    folded = "".join(ch for ch in value.lower() if ch.isalnum())
    marker = next((m for m in PLACEHOLDER_MARKERS if m in folded), None)
    if marker is not None:
        return f"looks like a placeholder (contains {marker!r})"
    if len(set(value)) < MIN_DISTINCT:
        return f"has fewer than {MIN_DISTINCT} distinct characters"
    return None
