"""Run the REST facade as a user would (`mlops-fc api` in its own process) and talk to it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx

from devstack.processes import free_port
from devstack.services import Service, start_service
from stack.settings import Settings

START_TIMEOUT_S = 120.0
API_KEY = "integration-test-key"


@dataclass
class RunningApi:
    settings: Settings
    service: Service

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.settings.api_port}"

    def client(self, **kwargs: object) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=60.0, **kwargs)  # type: ignore[arg-type]


def api_settings(settings: Settings, **changes: object) -> Settings:
    return settings.model_copy(
        update={"api_host": "127.0.0.1", "api_port": free_port(), "api_key": API_KEY, **changes}
    )


def wait_until(condition: object, timeout: float, interval: float = 0.1) -> bool:
    """Poll ``condition()`` until it is truthy or ``timeout`` passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(interval)  # noqa: sleep-ok - poll interval of a condition bounded by the deadline
    return False


@contextmanager
def running_api(settings: Settings, name: str = "api", **changes: object) -> Iterator[RunningApi]:
    """``mlops-fc api`` on a free port; yields once /readyz answers (ready or not)."""
    configured = api_settings(settings, **changes)
    service = start_service(configured, name, "api", "--loglevel", "warning")
    api = RunningApi(configured, service)

    def answers() -> bool:
        assert service.alive(), f"exit {service.process.returncode}: {service.log_tail()}"
        try:
            return httpx.get(f"{api.url}/readyz", timeout=10).status_code in (200, 503)
        except httpx.HTTPError:
            return False

    try:
        assert wait_until(answers, START_TIMEOUT_S), service.log_tail()
        yield api
    finally:
        service.stop()
