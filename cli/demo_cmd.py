"""`mlops-fc demo` and `mlops-fc run`: the whole pipeline on the local stack."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from stack.settings import Settings

console = Console()
DEFAULT_DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "transfers"


def demo(
    data: Path = typer.Option(
        DEFAULT_DATA,
        help="Folder of Transfermarkt CSV files; when it has none the synthetic world (with drift) is used.",
    ),
    base_until: int = typer.Option(2012, help="The first model learns seasons up to this one."),
    last_season: int = typer.Option(2022, help="The stream ends with this season."),
    prefix: str | None = typer.Option(
        None, help="Topic namespace of this run (default: demo-<time>., a fresh one each run)."
    ),
) -> None:
    """Stream seasons through the live loop (worker, drift monitor, retrainer) and judge it.

    A first model learns the seasons up to --base-until; the later seasons arrive one
    transfer window at a time, each paid transfer as a prediction request followed by its
    real fee. The loop detects drift, retrains and swaps on its own. At the end: prequential
    MAE (EUR m) and R² on log fee per season for the live system and for the static first
    model on the same requests, the drift events, promotions and rejections, and the time
    from each drift event to the first result of the new model; also written as JSON and
    PNG under <state_dir>/demo/<prefix>/.
    """
    from demo.demo import run_demo
    from demo.scenario import load_scenario
    from devstack.local import LocalStack

    logging.basicConfig(level=logging.WARNING)
    base = Settings()
    with console.status("Starting the local stack (Kafka, Redis, MLflow)..."):
        LocalStack(base).up()
    namespace = prefix or f"demo-{datetime.now(UTC):%Y%m%d-%H%M%S}."
    # Windows are paced by the demo (it waits for every stage), so no wall-clock cool-down.
    settings = base.model_copy(update={"topic_prefix": namespace, "retrain_cooldown_s": 0.0})
    with console.status(f"Reading the data ({data})..."):
        scenario = load_scenario(data, base_until=base_until, last_season=last_season)
    console.print(
        f"{scenario.source} data: {len(scenario.history_transfers)} transfers up to {base_until} for the "
        f"first model, {len(scenario.stream)} events to stream; namespace [bold]{namespace}[/bold]"
    )
    out_dir = settings.state_dir / "demo" / namespace.rstrip(".")
    from rich.progress import Progress

    with Progress(console=console) as progress:
        task = progress.add_task("streaming windows", total=len(scenario.windows()))

        def advance(window: tuple[int, str], done: int, total: int) -> None:
            progress.update(task, completed=done, description=f"season {window[0]} {window[1]}")

        report = run_demo(settings, scenario, out_dir, on_window=advance)
    _print(report)
    console.print(f"report: {out_dir / 'report.json'} and {out_dir / 'report.png'}")


def _print(report) -> None:  # noqa: ANN001 - demo.demo.DemoReport, imported lazily
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
    console.print(
        f"drift events: {len(report.drift_events)}, promotions: {len(report.promotions)}, "
        f"rejections: {len(report.rejections)}"
    )
    for p in report.promotions:
        if p["drift_event_id"] is None:
            console.print(f"  version {p['version']}: {p['reason']}")
            continue
        latency = p["drift_to_first_result_s"]
        shown = "n/a" if latency is None else f"{latency:.1f}s"
        console.print(f"  version {p['version']} during {p['during']}: drift -> first result {shown}")


def run() -> None:
    """The main job: start the local stack and run the whole pipeline (`mlops-fc demo`).

    Then the stack stays up: `mlops-fc api` serves the REST facade and the flows page,
    `mlops-fc stack down` stops everything.
    """
    demo(data=DEFAULT_DATA, base_until=2012, last_season=2022, prefix=None)
    console.print("The stack is still up: `mlops-fc api` for the REST facade, `mlops-fc stack down` to stop.")
