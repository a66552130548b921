"""Whether a process still runs: shared by the launcher (devstack) and the readers of its state file."""

from __future__ import annotations

import os
from pathlib import Path


def is_alive(pid: int) -> bool:
    """True while ``pid`` runs; a zombie (exited, not yet reaped) counts as dead."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child still answers kill(0); it is dead for our purposes.
    fields = _stat(Path(f"/proc/{pid}/stat"))
    return fields is not None and fields[0] != "Z"


def live_members(group: int) -> list[int]:
    """The processes of process group ``group`` that still run (zombies left out)."""
    found = []
    for path in Path("/proc").glob("[0-9]*/stat"):
        fields = _stat(path)
        if fields is not None and int(fields[2]) == group and fields[0] != "Z":
            found.append(int(path.parent.name))
    return found


def _stat(path: Path) -> list[str] | None:
    """The fields of a /proc/PID/stat after the command name: state, ppid, pgrp, ...; None once gone."""
    try:
        return path.read_text().rsplit(")", 1)[-1].split()
    except OSError:
        return None
