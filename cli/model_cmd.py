"""`mlops-fc model list | promote | rollback`: the registry by hand."""

from __future__ import annotations

from typing import NoReturn

import typer
from rich.console import Console
from rich.table import Table

from cli.preflight import require_kafka
from stack.settings import Settings

app = typer.Typer(help="List model versions, promote one, or roll back the champion.", no_args_is_help=True)
console = Console()
SHOWN_METRICS = ("val_mae_log", "holdout_mae_log", "champion_holdout_mae_log", "val_mae_eur_m")


def _registry(settings: Settings):  # noqa: ANN202 - imported lazily: MLflow is slow to import
    from modelstore.lifecycle import Registry
    from stack.kafka_clients import make_producer

    return Registry.connect(settings, make_producer(settings), source="cli")


@app.command("list")
def list_() -> None:
    """Every registered version with its metrics and outcome; the champion is marked."""
    from modelstore.mlflow_registry import list_versions, version_tags

    settings = Settings()
    registry = _registry(settings)
    versions = list_versions(registry.client, registry.name)
    if not versions:
        console.print(f"no versions of {registry.name} yet: `mlops-fc train --initial` makes the first")
        return
    table = Table(title=f"{registry.name} (MLflow {settings.mlflow_uri})")
    for column in ("version", "created", "aliases", "outcome", *SHOWN_METRICS):
        table.add_column(column)
    for info in versions:
        outcome = version_tags(registry.client, registry.name, info.version).get("mlfc.outcome", "")
        table.add_row(
            info.version,
            info.created.strftime("%Y-%m-%d %H:%M:%S"),
            ",".join(info.aliases),
            outcome,
            *(f"{info.metrics[m]:.4f}" if m in info.metrics else "" for m in SHOWN_METRICS),
        )
    console.print(table)


@app.command()
def promote(
    version: str = typer.Argument(..., help="The registered version to serve."),
    reason: str = typer.Option("promoted by hand", help="Kept in the ModelPromoted event."),
) -> None:
    """Serve VERSION now: signed blob to Redis, `champion` alias, ModelPromoted; workers swap.

    The artifact is verified first (signature, digest, version, a smoke prediction); one
    that would not serve is refused and nothing is moved.
    """
    from modelstore.exceptions import PromotionRefusedError

    registry = _registry(require_kafka(Settings()))
    try:
        event = registry.promote_existing(version, reason=reason)
    except PromotionRefusedError as exc:
        _refused(exc)
    except Exception as exc:  # noqa: BLE001 - show the registry's reason, not a traceback
        console.print(f"[red]cannot promote version {version}:[/red] {exc}")
        raise typer.Exit(1) from exc
    console.print(f"version {event.version} is champion (was {event.previous_version or 'none'})")


@app.command()
def rollback(
    to: str = typer.Option(None, "--to", help="Version to go back to (default: the previous champion)."),
    reason: str = typer.Option("rolled back by hand", help="Kept in the ModelRolledBack event."),
) -> None:
    """Go back to an earlier version; workers swap back on the ModelRolledBack event."""
    registry = _registry(require_kafka(Settings()))
    target = to or _previous_champion(registry)
    if target is None:
        console.print("[red]no earlier champion to roll back to; name one with --to[/red]")
        raise typer.Exit(1)
    from modelstore.exceptions import PromotionRefusedError

    try:
        event = registry.rollback(target, reason=reason)
    except PromotionRefusedError as exc:
        _refused(exc)
    except Exception as exc:  # noqa: BLE001
        console.print(f"[red]cannot roll back to {target}:[/red] {exc}")
        raise typer.Exit(1) from exc
    console.print(f"rolled back from {event.from_version} to {event.to_version}")


def _previous_champion(registry) -> str | None:  # noqa: ANN001
    """The newest promoted version older than the current champion."""
    from modelstore.mlflow_registry import list_versions, version_tags

    current = registry.champion()
    promoted = [
        info.version
        for info in list_versions(registry.client, registry.name)
        if info.version != current
        and (current is None or int(info.version) < int(current))
        and version_tags(registry.client, registry.name, info.version).get("mlfc.outcome", "promoted")
        == "promoted"
    ]
    return promoted[-1] if promoted else None


def _refused(exc: Exception) -> NoReturn:
    """A version that failed verification: say why, and that nothing moved."""
    console.print(f"[red]refused:[/red] {exc}")
    console.print("the champion alias, the Redis pointer and models.lifecycle are unchanged")
    raise typer.Exit(1) from exc
