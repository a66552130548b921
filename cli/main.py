"""`mlops-fc`: one command line for the whole system."""

from __future__ import annotations

import typer

from cli import schemas_cmd, stack_cmd, train_cmd, worker_cmd

app = typer.Typer(
    name="mlops-fc",
    help=(
        "mlops-fc stream: predicts football transfer fees from Kafka events and keeps its own "
        "model fresh. Start with `mlops-fc stack up`, then see each command's --help."
    ),
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
app.add_typer(stack_cmd.app, name="stack")
app.add_typer(schemas_cmd.app, name="schemas")
app.command("worker")(worker_cmd.worker)
app.command("train")(train_cmd.train)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
