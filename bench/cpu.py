"""CPU time of another process (user + system, all its threads), read from /proc.

Throughput on a shared machine moves with whatever else runs; the CPU a process spends per
request moves far less, and it is what decides how many cores a deployment needs. The
benchmarks read it before and after a phase and divide by the requests of that phase.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds ``pid`` has used so far (every thread of it)."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        # the command name may hold spaces: the fields start after its closing parenthesis
        fields = stat.read().rsplit(")", 1)[1].split()
    utime, stime = int(fields[11]), int(fields[12])  # fields 14 and 15 of proc(5)
    return (utime + stime) / _TICKS


@dataclass
class CpuMeter:
    """CPU seconds of one process between start() and stop()."""

    pid: int
    started: float = 0.0
    used: float = 0.0

    def start(self) -> CpuMeter:
        self.started = cpu_seconds(self.pid)
        return self

    def stop(self) -> float:
        self.used = cpu_seconds(self.pid) - self.started
        return self.used

    def us_per(self, count: int) -> float:
        """Microseconds of CPU per request (or message) over the measured stretch."""
        return self.used * 1e6 / max(count, 1)
