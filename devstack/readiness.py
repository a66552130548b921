"""Is a supervised service ready? Each answers with its own signal, never a guess from time.

- api: /readyz answers with Kafka, Redis and its results reader ready (a missing model is
  reported, not waited for: `up` says how to get one).
- worker: its /metrics answers, and the worker group is stable with every worker a member,
  i.e. the first assignment is done.
- monitor, retrainer, sink: their consumer group has a member.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass

from stack.groups import describe_groups
from stack.settings import Settings

TIMEOUT_S = 5.0


@dataclass(frozen=True)
class Readiness:
    ready: bool
    detail: str


def groups(settings: Settings) -> dict[str, tuple[str, int]]:
    """Consumer group id -> (state, members), for the groups of this deployment."""
    names = (settings.worker_app_id, settings.monitor_group_id, "mlops-fc-retrainer", settings.sink_group_id)
    return describe_groups(settings, [f"{settings.topic_prefix}{name}" for name in names], TIMEOUT_S)


def api_readiness(settings: Settings) -> tuple[Readiness, str | None]:
    """(readiness, serving model version or None)."""
    url = f"http://{local_host(settings.api_host)}:{settings.api_port}/readyz"
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response:  # noqa: S310 - our own URL
            body = json.loads(response.read())
    except urllib.error.HTTPError as exc:  # 503: not ready, the body says why
        body = json.loads(exc.read() or b"{}")
    except (OSError, ValueError) as exc:
        return Readiness(False, f"no answer on {url}: {exc}"), None
    checks = body.get("checks", {})
    missing = [name for name, ok in checks.items() if not ok and name != "model"]
    if missing or not checks:
        return Readiness(False, "waiting for " + (", ".join(missing) or "readiness")), None
    version = body.get("model_version")
    return Readiness(True, f"model v{version}" if version else "no model yet"), version


def metrics_answer(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response:  # noqa: S310 - our own URL
            return b"mlops_fc_worker_info" in response.read()
    except (OSError, ValueError):
        return False


def group_readiness(found: dict[str, tuple[str, int]], group_id: str, members: int) -> Readiness:
    state, present = found.get(group_id, ("absent", 0))
    if present >= members and state == "stable":
        return Readiness(True, f"group {state}, {present} member(s)")
    return Readiness(False, f"group {state}, {present}/{members} member(s)")


def local_host(host: str) -> str:
    return "127.0.0.1" if host in ("0.0.0.0", "") else host  # noqa: S104 - a listen address, not a bind
