"""`mlops-fc deploy ...`: the Kubernetes resources that are generated from code."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from stack.manifests import PROJECT_ROOT, Generated, settings_files, stale, topic_files, write

app = typer.Typer(
    help=(
        "Kubernetes manifests (deploy/k8s/): regenerate the files that follow the code, the "
        "Strimzi KafkaTopics from the topic catalogue and the ConfigMap and Secret from the "
        "settings. Apply them with `kubectl apply -k deploy/k8s/overlays/local` (docs/kubernetes.md)."
    ),
    no_args_is_help=True,
)
console = Console()

CheckOption = Annotated[
    bool,
    typer.Option("--check", help="Write nothing; exit 1 if the committed files lag behind the code (CI)."),
]


def _apply(files: list[Generated], check: bool) -> None:
    if check:
        behind = stale(files)
        for path in behind:
            console.print(f"[red]out of date:[/red] {path.relative_to(PROJECT_ROOT)}")
        if behind:
            console.print("run `mlops-fc deploy topics` and `mlops-fc deploy settings`, then commit")
            raise typer.Exit(1)
        console.print("up to date")
        return
    written = write(files)
    for path in written:
        console.print(f"wrote {path.relative_to(PROJECT_ROOT)}")
    if not written:
        console.print("already up to date")


@app.command("topics")
def topics(check: CheckOption = False) -> None:
    """Write deploy/k8s/strimzi-topics/topics.yaml: one KafkaTopic per catalogue topic.

    Names, partitions, retention and cleanup policy come from schemas/topics.py (the same
    catalogue `mlops-fc stack topics` creates); 3 replicas with min.insync.replicas 2.
    """
    _apply(topic_files(), check)


@app.command("settings")
def settings(check: CheckOption = False) -> None:
    """Write the ConfigMap (every non-secret MLOPS_FC_* setting) and the local Secret.

    deploy/k8s/base/config.yaml holds each setting of stack/settings.py with its cluster
    value; deploy/k8s/overlays/local/secret.yaml the secrets' development placeholders.
    """
    _apply(settings_files(), check)
