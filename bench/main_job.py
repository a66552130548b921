"""The main job, timed: `mlops-fc run` on the six leagues, warm (jars, venv and stack ready).

Runs the command as a user does, streaming its console, and reads the CPU counters of the
whole machine (/proc/stat) before and after: the busy share is what the run (and whatever
else runs on the machine: see the load average printed with it) kept the cores doing.
The figures come from the run's own report.json.

    .venv/bin/python bench/main_job.py [--workers 1]

Last line: one JSON object (wall_s, cpu_busy_share, windows, live_mae_eur_m, ...).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from stack.settings import Settings  # noqa: E402


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    settings = Settings()
    load_before = os.getloadavg()
    busy0, total0 = cpu_times()
    started_wall, started = time.time(), time.monotonic()
    code = subprocess.call(  # noqa: S603 - our own CLI
        [sys.executable, "-m", "cli.main", "run", "--workers", str(args.workers)], cwd=ROOT
    )
    wall = time.monotonic() - started
    busy1, total1 = cpu_times()
    if code != 0:
        raise SystemExit(f"mlops-fc run failed with exit code {code}")
    report = newest_report(settings.state_dir / "demo", started_wall)
    overall: dict[str, float] = report["overall"]  # type: ignore[assignment]
    windows: list[dict[str, object]] = report.get("windows", [])  # type: ignore[assignment]
    stage_names = ("publish", "answered", "monitor", "retrainer")
    stages = {
        name: round(statistics.median(float(w["stage_s"][name]) for w in windows), 2)  # type: ignore[index]
        for name in stage_names
    } if windows else {}  # fmt: skip
    figures = {
        "wall_s": round(wall, 1),
        "cpu_busy_share": round((busy1 - busy0) / max(1, total1 - total0), 3),
        "windows": len(windows),
        "requests": report["requests"],
        "results": report["results"],
        "live_mae_eur_m": round(overall["live_mae_eur_m"], 3),
        "static_mae_eur_m": round(overall["static_mae_eur_m"], 3),
        "drift_events": len(report["drift_events"]),  # type: ignore[arg-type]
        "promotions": len(report["promotions"]),  # type: ignore[arg-type]
        "rejections": len(report["rejections"]),  # type: ignore[arg-type]
        "job_s": report["elapsed_s"],
        "median_window_stage_s": stages,
        "loadavg_before": [round(v, 2) for v in load_before],
        "loadavg_after": [round(v, 2) for v in os.getloadavg()],
    }
    print(
        f"wall {figures['wall_s']} s, CPU busy {figures['cpu_busy_share']:.1%} of the machine, "
        f"{figures['windows']} windows, live MAE {figures['live_mae_eur_m']} vs static "
        f"{figures['static_mae_eur_m']}, {figures['drift_events']} drift events, "
        f"{figures['promotions']} promotions, {figures['rejections']} rejections; "
        f"load average before {figures['loadavg_before']}"
    )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
