"""`mlops-fc`: one command line for the whole system."""

from __future__ import annotations

import typer

from cli import (
    api_cmd,
    data_cmd,
    demo_cmd,
    deploy_cmd,
    ingest_cmd,
    model_cmd,
    monitor_cmd,
    predict_cmd,
    retrainer_cmd,
    schemas_cmd,
    stack_cmd,
    subscribe_cmd,
    train_cmd,
    up_cmd,
    worker_cmd,
)

app = typer.Typer(
    name="mlops-fc",
    help=(
        "mlops-fc stream: predicts football transfer fees from Kafka events and keeps its own "
        "model fresh. Start everything with `mlops-fc up` (only Kafka, Redis and MLflow: "
        "`mlops-fc stack up`), watch it with `mlops-fc ps`, stop it with `mlops-fc down`; "
        "`mlops-fc run` is the main job. See each command's --help."
    ),
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
app.add_typer(stack_cmd.app, name="stack")
app.add_typer(schemas_cmd.app, name="schemas")
app.add_typer(deploy_cmd.app, name="deploy")
app.command("worker")(worker_cmd.worker)
app.command("train")(train_cmd.train)
app.add_typer(ingest_cmd.app, name="ingest")
app.add_typer(data_cmd.app, name="data")
app.command("predict")(predict_cmd.predict)
app.command("monitor")(monitor_cmd.monitor)
app.command("retrainer")(retrainer_cmd.retrainer)
app.command("retrain")(retrainer_cmd.retrain)
app.add_typer(model_cmd.app, name="model")
app.command("api")(api_cmd.api)
app.command("sink")(api_cmd.sink)
app.command("subscribe")(subscribe_cmd.subscribe)
app.command("demo")(demo_cmd.demo)
app.command("run")(demo_cmd.run)
app.command("up")(up_cmd.up)
app.command("down")(up_cmd.down)
app.command("ps")(up_cmd.ps)
app.command("logs")(up_cmd.logs)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
