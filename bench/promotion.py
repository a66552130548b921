"""Promotion on the holdout against promotion on live evidence: the real-data demo both ways.

Runs the main job (`mlops-fc run`, six leagues, 2013-2022) twice in one go, with the services
restarted in between: first with MLOPS_FC_PROMOTION=holdout (a challenger that beats the
champion by the margin on recent transfers serves at once), then with =shadow (it scores in
shadow first and is promoted, rejected or rolled back on the paired errors of the real fees).
Per season, both modes: live MAE (EUR m), interval coverage of the real fees, and the
decisions taken in it with the transfer window they came in, the windows since the drift
event that led to them and their evidence (the shadow verdict's pairs, mean errors and
p-value; the holdout gate's rows, both errors, margin and span; a first model's validation).
The targets of issue 16: coverage 80 +/- 2 % overall and 80 +/- 4 % in every season;
shadow's overall live MAE no worse than holdout's; no decision without its evidence.

    source /work/prompts/ports_hN.env; nice -n 5 .venv/bin/python bench/promotion.py [--workers 1]

Last line: one JSON object (holdout_live_mae, shadow_live_mae, interval_coverage,
worst_season_coverage, rollbacks, ...); coverage and rollbacks are the shadow mode's (the
default), the holdout mode's beside them.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.demo_job import JobRun, cli, environment, run_job  # noqa: E402
from bench.harness import load, load_1m  # noqa: E402
from stack.settings import Settings  # noqa: E402

MODES = ("holdout", "shadow")
SEASON_TOLERANCE = 0.04  # issue 16: every season within 80 +/- 4 %
KINDS = (("promoted", "promotions"), ("rejected", "rejections"), ("rolled back", "rollbacks"))


def run_mode(settings: Settings, mode: str, workers: int) -> JobRun:
    """The main job with the services (re)started in ``mode``; stopped again after it."""
    env = environment(MLOPS_FC_PROMOTION=mode)
    cli("down", env=env)  # services of an earlier run would keep their promotion mode
    print(f"== {mode}: mlops-fc run --workers {workers} (load {load()})", flush=True)
    try:
        return run_job(settings.state_dir / "demo", workers=workers, env=env, tag=f"[{mode}] ")
    finally:
        cli("down", env=env)


def worst(coverage: dict[str, Any], level: float) -> tuple[str, float] | None:
    """The season whose coverage lies farthest from the level."""
    seasons = {s: c["covered"] for s, c in coverage.get("seasons", {}).items() if c.get("rows")}
    if not seasons:
        return None
    season = max(seasons, key=lambda s: abs(seasons[s] - level))
    return season, seasons[season]


def decisions(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Every promotion, rejection and rollback, in order of the windows, with its timing."""
    index = {f"{w['season']} {w['window']}": int(w["index"]) for w in report.get("windows", [])}
    drift_at = {d["event_id"]: d.get("during") for d in report.get("drift_events", [])}
    out = []
    for kind, key in KINDS:
        for item in report.get(key, []):
            at = index.get(item.get("during") or "")
            since = index.get(drift_at.get(item.get("drift_event_id")) or "")
            out.append({
                "kind": kind, **item, "window_index": at,
                "windows_since_drift": None if at is None or since is None else at - since,
            })  # fmt: skip
    return sorted(out, key=lambda d: (d["window_index"] is None, d["window_index"] or 0))


def evidence_text(decision: dict[str, Any]) -> str:
    found = decision.get("evidence")
    if not found:
        return f"no evidence: {decision.get('reason')}"
    if found["method"] == "first":
        error, rows = found["challenger_mean_error"], found["rows"]
        return f"first model: validation mean |log error| {error:.3f} on {rows} rows"
    if found["method"] == "holdout":
        span = f"{str(found.get('holdout_from'))[:10]}..{str(found.get('holdout_to'))[:10]}"
        return (
            f"holdout of {found['rows']} rows ({span}) vs v{found['champion_version']}: mean |log error| "
            f"{found['challenger_mean_error']:.3f} vs {found['champion_mean_error']:.3f}, "
            f"margin {found['margin']:.0%}"
        )
    p = found.get("p_value")
    return (
        f"{found['method']} on {found['pairs']} pairs vs v{found['champion_version']}: "
        f"mean |log error| {found['challenger_mean_error']:.3f} vs {found['champion_mean_error']:.3f}, "
        f"p {'-' if p is None else f'{p:.2g}'} (alpha {found['alpha']}), {found['age_s']:.0f}s"
    )


def print_seasons(reports: dict[str, dict[str, Any]], level: float) -> None:
    print("season   rows | live MAE holdout  shadow | coverage holdout  shadow")
    mae = {m: {str(s["season"]): s["live_mae_eur_m"] for s in r["seasons"]} for m, r in reports.items()}
    cover = {m: r["interval_coverage"].get("seasons", {}) for m, r in reports.items()}
    rows = {str(s["season"]): s["rows"] for s in reports["shadow"]["seasons"]}
    for season in sorted(rows):
        cells = [f"{mae[m].get(season, float('nan')):7.2f}" for m in MODES]
        shares = [cover[m].get(season, {}).get("covered") for m in MODES]
        flags = ["" if c is None or round(abs(c - level), 4) <= SEASON_TOLERANCE else "!" for c in shares]
        print(
            f"  {season}  {rows[season]:5d} |          {cells[0]} {cells[1]} |"
            + "".join(
                f"      {'-' if c is None else f'{c:5.1%}'}{f}" for c, f in zip(shares, flags, strict=True)
            )
        )
    for mode in MODES:
        overall = reports[mode]["overall"]
        covered = reports[mode]["interval_coverage"].get("overall", {}).get("covered")
        print(f"  all {mode:<8} live MAE {overall['live_mae_eur_m']:.3f} EUR m, coverage {covered}")
        for d in decisions(reports[mode]):
            since = d["windows_since_drift"]
            version = d.get("version") or f"{d.get('from')} -> {d.get('to')}"
            print(
                f"    window {d['window_index'] or '?':>2} ({d['during'] or '?'}): {d['kind']} v{version}"
                f"{'' if since is None else f', {since} window(s) after its drift event'}; {evidence_text(d)}"
            )


def figures(runs: dict[str, JobRun], level: float) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for mode, run in runs.items():
        report: dict[str, Any] = run.report
        coverage = report["interval_coverage"]
        found = worst(coverage, level)
        out[mode] = {
            "live_mae": round(report["overall"]["live_mae_eur_m"], 4),
            "static_mae": round(report["overall"]["static_mae_eur_m"], 4),
            "interval_coverage": coverage.get("overall", {}).get("covered"),
            "worst_season": None if found is None else found[0],
            "worst_season_coverage": None if found is None else found[1],
            "season_coverage": {
                s: None if c.get("covered") is None else round(c["covered"], 4)
                for s, c in coverage.get("seasons", {}).items()
            },
            "promotions": len(report["promotions"]),
            "rejections": len(report["rejections"]),
            "rollbacks": len(report["rollbacks"]),
            # every decision: shadow verdicts, the holdout gate's and the first model's
            "decisions_without_evidence": sum(1 for d in decisions(report) if not d.get("evidence")),
            "requests": report["requests"],
            "results": report["results"],
            "wall_s": round(run.wall_s, 1),
            "cpu_busy_share": round(run.cpu_busy_share, 3),
        }
    shadow, holdout = out["shadow"], out["holdout"]
    return {
        "holdout_live_mae": holdout["live_mae"],
        "shadow_live_mae": shadow["live_mae"],
        "interval_coverage": shadow["interval_coverage"],
        "worst_season_coverage": shadow["worst_season_coverage"],
        "rollbacks": shadow["rollbacks"],
        "holdout_interval_coverage": holdout["interval_coverage"],
        "holdout_worst_season_coverage": holdout["worst_season_coverage"],
        "level": level,
        "modes": out,
        "load_1m": load_1m(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument(
        "--reports",
        nargs=2,
        type=Path,
        metavar=("HOLDOUT", "SHADOW"),
        help="summarise these report.json only",
    )
    args = parser.parse_args()
    settings = Settings()
    if args.reports:
        runs = {
            m: JobRun(json.loads(p.read_text()), 0.0, 0.0, 0.0)
            for m, p in zip(MODES, args.reports, strict=True)
        }
    else:
        runs = {mode: run_mode(settings, mode, args.workers) for mode in MODES}
    level = settings.interval_level
    print_seasons({m: r.report for m, r in runs.items()}, level)
    result = figures(runs, level)
    print(
        f"live MAE holdout {result['holdout_live_mae']} vs shadow {result['shadow_live_mae']} EUR m; "
        f"shadow coverage {result['interval_coverage']} (worst season {result['worst_season_coverage']}), "
        f"holdout {result['holdout_interval_coverage']} (worst {result['holdout_worst_season_coverage']}); "
        f"{result['rollbacks']} rollback(s); load {load()}"
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
