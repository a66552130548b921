"""`mlops-fc demo` and `mlops-fc run`: the main job on the services of `mlops-fc up`."""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.table import Table

from cli.up_cmd import api_url, print_rows
from stack.exceptions import StackError
from stack.settings import Settings

if TYPE_CHECKING:
    from demo.scenario import DataChoice, SyntheticPlan

console = Console(soft_wrap=True)  # window lines stay whole when piped
SHARED_DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"


STEP_REQUESTS_OPTION = typer.Option(
    100,  # demo.demo.STEP_REQUESTS (imported lazily, as the demo is)
    "--step-requests",
    min=0,
    help="Paid transfers published before the job waits for every stage: a window's later requests "
    "are scored after its earlier fees were seen, as in the market (0: each window in one burst).",
)


def demo(
    data: Path | None = typer.Option(
        None,
        help="Folder of Transfermarkt CSV files (default: ../shared/data/transfers, else the files of "
        "`mlops-fc data fetch`); when there are none the synthetic world (with drift) is used.",
    ),
    stats: Path | None = typer.Option(
        None,
        help="Folder of Understat season files, ingested in time order with the transfers (default: "
        "player-stats/ beside the default transfers).",
    ),
    base_until: int = typer.Option(2012, help="The first model learns seasons up to this one."),
    last_season: int = typer.Option(2022, help="The stream ends with this season."),
    prefix: str | None = typer.Option(
        None, help="Topic namespace of this run (default: demo-<time>., a fresh one each run)."
    ),
    workers: int = typer.Option(1, "--workers", min=1, max=16, help="Inference workers of the run."),
    step_requests: int = STEP_REQUESTS_OPTION,
    per_season: int = typer.Option(1500, min=10, help="Synthetic world only: transfers per season."),
    first_season: int = typer.Option(2003, help="Synthetic world only: its first season."),
) -> None:
    """Stream seasons through the live loop (worker, drift monitor, retrainer) and judge it.

    Brings the system up (`mlops-fc up`) in a fresh namespace; a first model learns the
    seasons up to --base-until; the later seasons arrive one real transfer window at a time,
    each paid transfer as a prediction request followed by its real fee. The loop detects
    drift, retrains and swaps on its own; each window prints the live and static MAE so far
    (EUR m), each drift event, promotion and rejection as it happens. At the end: prequential
    MAE and R² on log fee per season, also written as JSON and PNG under
    <state_dir>/demo/<prefix>/. The services stay up afterwards (`mlops-fc down` stops them).
    """
    base = Settings()
    namespace = prefix or f"demo-{datetime.now(UTC):%Y%m%d-%H%M%S}."
    out_dir = base.state_dir / "demo" / namespace.rstrip(".")
    _quiet_native_logs(out_dir / "client.log")
    console.print(f"flows page: [bold]{api_url(base)}/ui[/bold] (live during the run)")
    # Windows are paced by the job (it waits for every stage), so no wall-clock cool-down.
    settings = base.model_copy(update={"topic_prefix": namespace, "retrain_cooldown_s": 0.0})
    try:
        from demo.scenario import DataChoice, SyntheticPlan, choose_data

        plan = SyntheticPlan(first_season=first_season, per_season=per_season)
        choice = choose_data(SHARED_DATA, base.state_dir / "data")
        if data is not None or stats is not None:
            origin = f"the folders given ({data or choice.transfers}, records: {stats or 'none'})"
            choice = DataChoice(data or choice.transfers, stats, origin)
        console.print(f"data: {choice.origin}")
        report = _run(settings, choice, (base_until, last_season, plan), workers, out_dir, step_requests)
    except (StackError, RuntimeError, OSError) as exc:
        # stderr goes to the client log now: say it here, on stdout.
        console.print(
            f"[red]the run stopped:[/red] {exc}\n(details: {out_dir / 'client.log'}, `mlops-fc logs SERVICE`)"
        )
        raise typer.Exit(1) from exc
    _print(report)
    console.print(f"report: {out_dir / 'report.json'} and {out_dir / 'report.png'}")
    console.print(f"The system stays up: {api_url(base)}/ui, `mlops-fc ps`; `mlops-fc down` stops it.")


def _quiet_native_logs(path: Path) -> None:
    """librdkafka writes its notices to file descriptor 2 from C: send that to a log file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    target = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(target, 2)
    os.close(target)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def _run(
    settings: Settings,
    data: DataChoice,
    seasons: tuple[int, int, SyntheticPlan],
    workers: int,
    out_dir: Path,
    step_requests: int,
):  # noqa: ANN202
    from demo.demo import Hooks, run_demo
    from demo.scenario_cache import cached_scenario
    from devstack.up import start, wait_ready

    with console.status(f"Bringing the system up in namespace {settings.topic_prefix} ..."):
        already = start(settings, workers=workers)  # the services start while the data is read

    with console.status(f"Reading the data ({data.transfers or 'synthetic'})..."):
        base_until, last_season, plan = seasons
        cache = settings.state_dir / "cache" / "scenarios"  # the files are parsed once, then reused
        scenario, _ = cached_scenario(
            cache,
            data.transfers,
            base_until=base_until,
            last_season=last_season,
            synthetic=plan,
            stats_dir=data.stats,
        )
    windows = scenario.windows()
    console.print(
        f"{scenario.source} data: {len(scenario.history_transfers)} transfers up to {base_until} for the "
        f"first model, then {len(scenario.stream)} events in {len(windows)} transfer windows"
    )
    _records_line(scenario.records)
    with console.status("Publishing the history and training the first model...") as status:

        def on_window(point) -> None:  # noqa: ANN001 - demo.live.WindowPoint
            _window_line(point)
            status.update(f"window {point.index + 1}/{point.total}: waiting for every stage...")

        def services_ready() -> None:
            status.update("Waiting for the services to be ready...")
            print_rows(wait_ready(settings, already).rows)

        hooks = Hooks(
            on_window=on_window,
            on_event=_event_line,
            alive=_alive(settings),
            explain=_explain(settings),
            services_ready=services_ready,
        )
        return run_demo(settings, scenario, out_dir, hooks, step_requests=step_requests)


def _records_line(records) -> None:  # noqa: ANN001 - demo.scenario.RecordMatch, imported lazily
    if not records.source:
        console.print("season records: none (no player-stats folder)")
        return
    console.print(
        f"season records: {records.matched}/{records.rows_read} rows matched to transfer players "
        f"([bold]{records.match_rate:.1%}[/bold]; {records.ambiguous} ambiguous, "
        f"{records.unmatched} unmatched, {records.unparseable} unparseable; "
        f"{records.players_matched} players)"
    )


def _window_line(point) -> None:  # noqa: ANN001 - demo.live.WindowPoint, imported lazily
    took = sum(point.stage_s.values())
    console.print(
        f"[{point.index:>2}/{point.total}] {point.label:<11} {point.requests:>4} requests  "
        f"MAE so far: live [bold]{point.live_mae_eur_m:.2f}[/bold] static {point.static_mae_eur_m:.2f}  "
        f"(window {point.window_live_mae_eur_m:.2f} vs {point.window_static_mae_eur_m:.2f}, "
        f"v{point.serving_version or '-'}, {took:.1f}s)"
    )


def _event_line(event) -> None:  # noqa: ANN001 - a schemas event, imported lazily
    name = type(event).__name__
    if name == "DriftDetected":
        figure = (
            f"share drifted {event.share_drifted:.2f}"
            if event.share_drifted is not None
            else f"online error {event.online_error or 0:.3f} vs {event.reference_error or 0:.3f}"
        )
        console.print(f"      [yellow]drift[/yellow] {event.kind} on v{event.model_version}: {figure}")
    elif name == "ModelPromoted":
        was = f"was v{event.previous_version}" if event.previous_version else "first model"
        console.print(f"      [green]promoted v{event.version}[/green] ({was}): {event.reason}")
    elif name == "ModelRejected":
        console.print(f"      [red]rejected v{event.version}[/red]: {event.reason}")
    elif name == "ModelRolledBack":
        console.print(f"      rolled back v{event.from_version} -> v{event.to_version}: {event.reason}")


def _alive(settings: Settings):  # noqa: ANN202
    from devstack.processes import read_pid
    from stack.supervised import up_dir

    pid_file = up_dir(settings.state_dir) / "supervisor.pid"
    return lambda: read_pid(pid_file) is not None


def _explain(settings: Settings):  # noqa: ANN202
    from devstack.up import explain

    return lambda: explain(settings)


def _print(report) -> None:  # noqa: ANN001 - demo.report.DemoReport, imported lazily
    table = Table(
        title=f"Prequential scores on {report.source} data ({report.results}/{report.requests} answered)"
    )
    for column in ("season", "rows", "live MAE", "static MAE", "live R² log", "static R² log"):
        table.add_column(column, justify="right")
    for s in [*report.seasons, report.overall]:
        table.add_row(
            "all" if s.season is None else str(s.season),
            str(s.rows),
            f"{s.live_mae_eur_m:.2f}",
            f"{s.static_mae_eur_m:.2f}",
            f"{s.live_r2_log:.3f}",
            f"{s.static_r2_log:.3f}",
        )
    console.print(table)
    coverage = report.interval_coverage
    if coverage.get("overall", {}).get("rows"):
        seasons = [c["covered"] for c in coverage["seasons"].values() if c.get("rows")]
        console.print(
            f"interval coverage: {coverage['overall']['covered']:.1%}"
            f" of {coverage['overall']['rows']} real fees"
            f" (seasons {min(seasons):.1%}-{max(seasons):.1%})"
        )
    records = report.records
    if records.get("source"):
        console.print(
            f"season records: {records['match_rate']:.1%} of the rows matched; "
            f"{records['request_record_share']:.1%} of the answered requests had a record"
        )
    console.print(
        f"drift events: {len(report.drift_events)}, promotions: {len(report.promotions)}, "
        f"rejections: {len(report.rejections)}; {len(report.windows)} windows in {report.elapsed_s:.0f}s"
    )
    for p in report.promotions:
        if p["drift_event_id"] is None:
            console.print(f"  version {p['version']}: {p['reason']}")
            continue
        latency = p["drift_to_first_result_s"]
        shown = "n/a" if latency is None else f"{latency:.1f}s"
        console.print(f"  version {p['version']} during {p['during']}: drift -> first result {shown}")


def run(
    workers: int = typer.Option(1, "--workers", min=1, max=16, help="Inference workers of the run."),
    step_requests: int = STEP_REQUESTS_OPTION,
) -> None:
    """The main job: `mlops-fc up`, then the whole pipeline on the real data (`mlops-fc demo`).

    The flows page's URL is printed first; the system stays up afterwards (`mlops-fc down`).
    """
    demo(
        data=None,
        stats=None,
        base_until=2012,
        last_season=2022,
        prefix=None,
        workers=workers,
        step_requests=step_requests,
        per_season=1500,
        first_season=2003,
    )
