"""Static group membership that still hands partitions over at once on a clean stop."""

from __future__ import annotations

import logging
from typing import Any

from aiokafka.consumer import group_coordinator
from aiokafka.errors import KafkaError
from aiokafka.protocol.group import LeaveGroupRequest

log = logging.getLogger(__name__)


def leave_group_on_stop() -> None:
    """Make a static member (group_instance_id set) send LeaveGroup when it stops cleanly.

    aiokafka never sends it for a static member, so after a clean stop its partitions would
    sit unanswered for a whole session timeout; a crashed member rejoining under its
    instance id is what static membership is for, and that path is unchanged.
    """
    coordinator: Any = group_coordinator.GroupCoordinator  # patched: typed as Any
    if getattr(coordinator, "_mlops_fc_leave_on_stop", False):
        return
    original = coordinator._maybe_leave_group

    async def maybe_leave_group(self: Any) -> None:
        if self.generation > 0 and self._group_instance_id is not None:
            try:
                await self._send_req(LeaveGroupRequest(self.group_id, self.member_id))
            except KafkaError as err:
                log.warning("LeaveGroup of static member %s failed: %s", self._group_instance_id, err)
        await original(self)  # dynamic members leave here; it resets the generation either way

    coordinator._maybe_leave_group = maybe_leave_group
    coordinator._mlops_fc_leave_on_stop = True
