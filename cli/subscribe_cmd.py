"""`mlops-fc subscribe TOPIC`: tail a topic and pretty-print its decoded events."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import typer
from rich.console import Console
from rich.syntax import Syntax

from cli.preflight import require_kafka
from stack.settings import Settings

console = Console(highlight=False)


def subscribe(
    topic: str = typer.Argument(..., help="A catalogue topic, e.g. predictions.results or deadletters."),
    from_beginning: bool = typer.Option(False, "--from-beginning", help="Start at the oldest message."),
    filter_: list[str] = typer.Option(
        [],
        "--filter",
        help="FIELD=VALUE (dotted path, e.g. status=ok or features.age=25.0); repeat to require all.",
    ),
    max_messages: int = typer.Option(None, "--max-messages", min=1, help="Stop after this many matches."),
    idle_timeout: float = typer.Option(
        None, "--idle-timeout", min=0.1, help="Stop after this many seconds without a message."
    ),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per line (for scripts)."),
) -> None:
    """Print the events of TOPIC as they arrive (Ctrl-C stops).

    Reads without a consumer group: it never takes partitions from a service and commits
    nothing. Starts at the end of the topic unless --from-beginning. A message that does not
    decode is shown with the reason and its raw bytes; so is a dead letter.
    """
    from consumers.exceptions import UnknownTopicError
    from consumers.messages import Shown
    from consumers.subscribe import Filter, follow
    from stack.exceptions import TopicMissing

    try:
        filters = [Filter.parse(text) for text in filter_]
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--filter") from exc

    def pretty(shown: Shown) -> None:
        if as_json:
            print(json.dumps(shown.to_dict(), sort_keys=True), flush=True)  # noqa: T201
            return
        when = (
            datetime.fromtimestamp(shown.timestamp_ms / 1000, UTC).isoformat(timespec="milliseconds")
            if shown.timestamp_ms
            else "-"
        )
        title = shown.event_type or "[red]undecodable[/red]"
        console.print(
            f"[bold]{shown.topic}[/bold][{shown.partition}]@{shown.offset} {when} key={shown.key} {title}"
        )
        if shown.error is not None:
            console.print(f"  [red]reason:[/red] {shown.error}")
            console.print(f"  [red]raw:[/red] {shown.raw}", markup=False)
        if shown.event is not None:
            console.print(
                Syntax(json.dumps(shown.event, indent=2, sort_keys=True), "json", theme="ansi_dark")
            )

    try:
        follow(
            require_kafka(Settings()),
            topic,
            pretty,
            from_beginning=from_beginning,
            filters=filters,
            max_messages=max_messages,
            idle_timeout_s=idle_timeout,
        )
    except (UnknownTopicError, TopicMissing) as exc:
        raise typer.BadParameter(str(exc), param_hint="TOPIC") from exc
    except KeyboardInterrupt:
        pass
