"""What the benches of the main job share: run `mlops-fc run` as a user does, its console
streamed with the seconds since the start, the machine's CPU counters around it, and the
report.json the run wrote.

Not a benchmark itself; bench/main_job.py and bench/promotion.py import it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class JobRun:
    """One finished `mlops-fc run`: its report, wall time and share of the machine kept busy."""

    report: dict[str, object]
    wall_s: float
    cpu_busy_share: float
    started_at: float  # epoch seconds, to read the services' logs of this run
    marks: dict[str, float] = field(default_factory=dict)


def cpu_times() -> tuple[int, int]:
    """(busy, total) jiffies of all cores since boot: idle and iowait count as not busy."""
    fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]
    total = sum(fields[:8])  # user nice system idle iowait irq softirq steal (guest is in user)
    return total - idle, total


def newest_report(demo_dir: Path, since: float) -> dict[str, object]:
    reports = [p for p in demo_dir.glob("*/report.json") if p.stat().st_mtime >= since]
    if not reports:
        raise SystemExit(f"no report.json written under {demo_dir} by this run")
    loaded: dict[str, object] = json.loads(max(reports, key=lambda p: p.stat().st_mtime).read_text())
    return loaded


def cli(*args: str, env: Mapping[str, str] | None = None) -> None:
    """A `mlops-fc` command that must succeed (e.g. ``down``), its output passed through."""
    subprocess.run([sys.executable, "-m", "cli.main", *args], cwd=ROOT, env=env, check=True)  # noqa: S603


def run_job(
    demo_dir: Path,
    workers: int = 1,
    env: Mapping[str, str] | None = None,
    marks: Mapping[str, str] | None = None,
    tag: str = "",
    on_line: Callable[[float, str], None] = lambda at, line: None,
) -> JobRun:
    """`mlops-fc run --workers N` to its end; ``marks`` maps a console needle to the step it ends."""
    busy0, total0 = cpu_times()
    started_wall, started = time.time(), time.monotonic()
    process = subprocess.Popen(  # noqa: S603 - our own CLI
        [sys.executable, "-m", "cli.main", "run", "--workers", str(workers)],
        cwd=ROOT,
        env=None if env is None else dict(env),
        stdout=subprocess.PIPE,
        text=True,
    )
    found: dict[str, float] = {}
    assert process.stdout is not None
    for line in process.stdout:
        at = time.monotonic() - started
        print(f"{tag}{at:7.1f} {line}", end="", flush=True)
        on_line(at, line)
        for needle, step in (marks or {}).items():
            if needle in line and step not in found:
                found[step] = round(at, 1)
    code = process.wait()
    wall = time.monotonic() - started
    busy1, total1 = cpu_times()
    if code != 0:
        raise SystemExit(f"mlops-fc run failed with exit code {code}")
    return JobRun(
        report=newest_report(demo_dir, started_wall),
        wall_s=wall,
        cpu_busy_share=(busy1 - busy0) / max(1, total1 - total0),
        started_at=started_wall,
        marks=found,
    )


def environment(**overrides: str) -> dict[str, str]:
    """This process's environment with ``overrides`` (settings of the services of one run)."""
    return {**os.environ, **overrides}
