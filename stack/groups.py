"""Consumer groups as the broker describes them: state and member count."""

from __future__ import annotations

from collections.abc import Iterable

from stack.kafka_clients import make_admin
from stack.settings import Settings


def describe_groups(
    settings: Settings, group_ids: Iterable[str], timeout_s: float = 5.0
) -> dict[str, tuple[str, int]]:
    """Group id -> (state, members); a group the broker does not know is left out."""
    admin = make_admin(settings, log_level=3)
    found: dict[str, tuple[str, int]] = {}
    for group_id, future in admin.describe_consumer_groups(
        list(group_ids), request_timeout=timeout_s
    ).items():
        try:
            described = future.result()
        except Exception:  # noqa: BLE001, S112 - a group that does not exist (yet)
            continue
        found[group_id] = (str(described.state.name).lower(), len(described.members))
    return found
