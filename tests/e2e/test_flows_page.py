"""The flows page in a real browser: headless Chromium (Debian's package) driven over the
DevTools protocol loads /ui, sees the pipeline, submits a prediction and sees its result."""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.sync.client import ClientConnection, connect

from stack.settings import PROJECT_ROOT, Settings
from tests.api_helpers import RunningApi, wait_until
from tests.api_stack import served_api

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(CHROMIUM is None, reason="chromium missing: run scripts/setup.sh"),
]
ARTIFACT = PROJECT_ROOT / "test-artifacts" / "flows-page.png"
WAIT = 120.0


class DevTools:
    """The few DevTools protocol calls the test needs, over one page's websocket."""

    def __init__(self, socket: ClientConnection) -> None:
        self.socket = socket
        self.next_id = 0

    def send(self, method: str, **params: Any) -> dict[str, Any]:
        self.next_id += 1
        self.socket.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv(timeout=60))
            if message.get("id") == self.next_id:  # events (no id) are skipped
                assert "error" not in message, message
                return message["result"]  # type: ignore[no-any-return]

    def eval(self, expression: str) -> Any:
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        assert "exceptionDetails" not in result, result
        return result["result"].get("value")


@pytest.fixture(scope="module")
def api(stack_settings: Settings) -> Iterator[RunningApi]:
    with served_api(stack_settings) as running:
        yield running


@pytest.fixture
def browser() -> Iterator[DevTools]:
    assert CHROMIUM is not None  # the module is skipped without it
    profile = Path(tempfile.mkdtemp(prefix="chromium-"))
    process = subprocess.Popen(
        [CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         "--no-first-run", "--remote-debugging-port=0", f"--user-data-dir={profile}",
         "--window-size=1400,1500", "about:blank"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        port_file = profile / "DevToolsActivePort"
        assert wait_until(lambda: port_file.exists() and port_file.read_text().strip(), 60)
        port = int(port_file.read_text().splitlines()[0])
        pages = httpx.get(f"http://127.0.0.1:{port}/json/list", timeout=10).json()
        page = next(p for p in pages if p["type"] == "page")
        with connect(page["webSocketDebuggerUrl"], max_size=None) as socket:
            yield DevTools(socket)
    finally:
        process.terminate()
        process.wait(30)
        shutil.rmtree(profile, ignore_errors=True)


def test_flows_page_shows_the_pipeline_and_answers_a_prediction(api: RunningApi, browser: DevTools) -> None:
    with api.client() as http:
        assert wait_until(lambda: http.get("/readyz").status_code == 200, WAIT), http.get("/readyz").text
    browser.send("Page.enable")
    browser.send("Page.navigate", url=f"{api.url}/ui")

    def page_shows(expression: str) -> bool:
        return bool(browser.eval(expression))

    assert wait_until(lambda: page_shows("document.readyState === 'complete'"), 60)
    # The graph: every running service and every catalogue topic is a node; no sink runs here.
    assert wait_until(lambda: page_shows("document.querySelectorAll('#graph g').length === 12"), WAIT)
    assert browser.eval("document.querySelector('#graph g[data-node=\"worker\"]') !== null")
    assert browser.eval("document.querySelector('#graph g[data-node=\"sink\"]') === null")
    # The model timeline shows the first promotion; the latest messages of a topic are listed.
    assert wait_until(
        lambda: page_shows("document.getElementById('timeline').textContent.includes('promoted v1')"), WAIT
    )
    # The lineage section draws version 1: its trigger, run, MLflow version and verdict with
    # its evidence (a first model: its own validation).
    assert wait_until(
        lambda: page_shows(
            "(t => t.includes('trigger: initial') && t.includes('MLflow v1')"
            " && t.includes('promoted as first model (validation |log error| '))"
            "(document.getElementById('lineage').textContent)"
        ),
        WAIT,
    )
    # The shadow slot, as GET /v1/models/shadow serves it: none here.
    assert wait_until(
        lambda: page_shows("document.getElementById('shadow').textContent === 'no model in shadow'"), WAIT
    )
    browser.eval("document.getElementById('topic-select').value = 'transfers.completed'; "
                 "document.getElementById('topic-select').dispatchEvent(new Event('change'))")  # fmt: skip
    assert wait_until(
        lambda: page_shows("document.querySelectorAll('#messages tr.clickable').length > 0"), WAIT
    )

    # The form starts from a player and clubs the system has seen, not from made-up names.
    assert wait_until(
        lambda: page_shows("document.getElementById('predict-form').player_id.value !== ''"), WAIT
    )
    assert browser.eval("document.getElementById('predict-form').player_id.value.startsWith('p7-')")

    # Ask for a prediction through the form, as a person would.
    browser.eval(
        """(() => {
          const form = document.getElementById('predict-form');
          form.player_id.value = 'p7-5'; form.from_club.value = 'Club 02'; form.to_club.value = 'Club 09';
          form.season.value = '2013'; form.window.value = 'winter'; form.position.value = 'Left Winger';
          document.getElementById('predict-submit').click();
        })()"""
    )
    assert wait_until(
        lambda: page_shows("document.getElementById('prediction-result').dataset.status !== 'waiting'"), WAIT
    )
    status = browser.eval("document.getElementById('prediction-result').dataset.status")
    text = browser.eval("document.getElementById('prediction-result').textContent")
    assert status == "ok", text
    fee = browser.eval("document.getElementById('prediction-fee').textContent")
    assert re.fullmatch(r"[\d.]+ (M|k) EUR( \([\d.k]+-[\d.k]+\))?", fee), fee  # "4.6 M EUR (2.1-9.8)"
    assert "inference-worker/w1" in text and "v1" in text

    shot = browser.send("Page.captureScreenshot", format="png", captureBeyondViewport=True)
    ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
    ARTIFACT.write_bytes(base64.b64decode(shot["data"]))
    assert ARTIFACT.stat().st_size > 10_000
