"""The main job, timed: `mlops-fc run` on the six leagues, warm (jars, venv and stack ready).

Runs the command as a user does, streaming its console (each line stamped with the seconds
since the start), and reads the CPU counters of the whole machine (/proc/stat) before and
after: the busy share is what the run (and whatever else runs on the machine: see the load
average printed with it) kept the cores doing. The figures come from the run's own
report.json; the timeline of where the time goes from the console's stamps (start-up), the
report's per-window stage times (waiting for the worker, the monitor, the retrainer) and the
services' logs (each retrain's training, MLflow registration and promotion; each worker's swap).

    .venv/bin/python bench/main_job.py [--workers 1]

Last line: one JSON object (wall_s, cpu_busy_share, windows, live_mae_eur_m, ...).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.demo_job import run_job  # noqa: E402
from stack.settings import Settings  # noqa: E402
from stack.supervised import up_dir  # noqa: E402

STAMP = re.compile(r"^\[?(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3})[\] ]")
RETRAIN = re.compile(r"timing trigger (\S+): train ([\d.]+)s register ([\d.]+)s (\w+) ([\d.]+)s")
HISTORY = re.compile(r"training a challenger on (\d+) paid transfers.*history read in ([\d.]+)s")
SERVING = re.compile(r"now serving \S+ version (\d+)")
MARKS = {  # console line -> start-up step it ends (the services start while the data is read)
    "flows page:": "cli start",
    " data: ": "stack up, services spawned, data read",
    "Services": "history published, first model trained, services ready",
    "[ 1/": "window 1",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    settings = Settings()
    load_before = os.getloadavg()
    job = run_job(settings.state_dir / "demo", workers=args.workers, marks=MARKS)
    report, marks, started_wall = job.report, job.marks, job.started_at
    overall: dict[str, float] = report["overall"]  # type: ignore[assignment]
    windows: list[dict[str, object]] = report.get("windows", [])  # type: ignore[assignment]
    stage_names = ("publish", "answered", "monitor", "retrainer")
    stages = {
        name: round(statistics.median(float(w["stage_s"][name]) for w in windows), 2)  # type: ignore[index]
        for name in stage_names
    } if windows else {}  # fmt: skip
    figures = {
        "wall_s": round(job.wall_s, 1),
        "cpu_busy_share": round(job.cpu_busy_share, 3),
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
        "startup_marks_s": marks,
        "retrains": retrains(settings, started_wall),
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
    timeline(windows, report, marks, figures["retrains"])  # type: ignore[arg-type]
    print(json.dumps(figures))


def _log_lines(path: Path, since: float) -> list[tuple[float, str]]:
    """(epoch seconds, line) of a service log's stamped lines written since ``since``."""
    if not path.exists():
        return []
    out = []
    for line in path.read_text(errors="replace").splitlines():
        found = STAMP.match(line)
        if found:
            at = datetime.strptime(found.group(1), "%Y-%m-%d %H:%M:%S,%f").timestamp()
            if at >= since:
                out.append((at, line))
    return out


def retrains(settings: Settings, since: float) -> list[dict[str, object]]:
    """Each retrain of the run: history read, training, registration, decision, and the swap."""
    logs = up_dir(settings.state_dir) / "logs"
    found: list[dict[str, object]] = []
    history: list[tuple[int, float]] = []
    for at, line in _log_lines(logs / "retrainer.log", since):
        if read := HISTORY.search(line):
            history.append((int(read.group(1)), float(read.group(2))))
        elif timing := RETRAIN.search(line):
            rows, read_s = history[-1] if history else (0, 0.0)
            found.append({
                "at_s": round(at - since, 1), "rows": rows, "history_read_s": read_s,
                # The handler's training time includes reading the history.
                "fit_s": round(float(timing.group(2)) - read_s, 2), "register_s": float(timing.group(3)),
                "decision": timing.group(4), "decide_s": float(timing.group(5)),
            })  # fmt: skip
    served: dict[str, float] = {}
    for worker_log in sorted(logs.glob("worker-*.log")):
        for at, line in _log_lines(worker_log, since):
            if serving := SERVING.search(line):
                served.setdefault(serving.group(1), at - since)
    promoted = iter(sorted(served.items(), key=lambda kv: kv[1])[1:])  # the first is the initial model
    for retrain in found:
        if retrain["decision"] == "promote":
            version, at_s = next(promoted, (None, None))
            retrain["version"] = version
            retrain["swap_s"] = None if at_s is None else round(at_s - float(retrain["at_s"]), 1)  # type: ignore[arg-type]
    return found


def timeline(
    windows: list[dict[str, object]],
    report: dict[str, object],
    marks: dict[str, float],
    retrained: list[dict[str, object]],
) -> None:
    print("start-up (seconds since the command started):")
    for step, at in marks.items():
        print(f"  {at:7.1f}  {step}")
    decisions: dict[str, list[str]] = {}
    for kind, key in (("drift", "drift_events"), ("promoted", "promotions")):
        for item in report[key]:  # type: ignore[attr-defined]
            decisions.setdefault(str(item.get("during")), []).append(kind)
    print("window                 publish answered  monitor retrainer   total  decisions")
    for w in windows:
        stage: dict[str, float] = w["stage_s"]  # type: ignore[assignment]
        label = f"{w['season']} {w['window']}"
        print(
            f"  {w['index']:>2} {label:<16} {stage['publish']:7.1f} {stage['answered']:8.1f} "
            f"{stage['monitor']:8.1f} {stage['retrainer']:9.1f} {sum(stage.values()):7.1f}  "
            f"{' '.join(decisions.get(label, []))}"
        )
    print("retrains: rows, history read, fitting, MLflow registration, decision, worker swap (s)")
    for r in retrained:
        print(
            f"  at {r['at_s']:>6}s {r['rows']:>6} rows  read {r['history_read_s']:5.1f}  "
            f"fit {r['fit_s']:6.1f}  register {r['register_s']:5.2f}  {r['decision']} "
            f"{r['decide_s']:5.2f}  swap {r.get('swap_s', '-')}"
        )


if __name__ == "__main__":
    main()
