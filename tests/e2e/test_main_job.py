"""The main job on a short synthetic scenario, run as a user runs it (`mlops-fc demo`, the
command behind `mlops-fc run`) on the services of `mlops-fc up`: the flows page, opened in
headless Chromium during the run, sees the model timeline change after a promotion and the
MAE chart fill; the console shows the flows URL first, a line per window, and no librdkafka
log line."""

from __future__ import annotations

import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from devstack.services import settings_env
from devstack.up import stop_services
from stack.settings import PROJECT_ROOT, Settings
from tests.api_helpers import wait_until
from tests.e2e.test_flows_page import CHROMIUM, DevTools, browser  # noqa: F401 - the fixture
from tests.up_helpers import up_settings

pytestmark = pytest.mark.e2e
RUN_S = 1500.0
SEEN_S = 900.0
WINDOWS = 2  # season 2015, summer and winter: the synthetic world drifts from 2015 on
LIBRDKAFKA_LOG = re.compile(r"%\d\|")


@dataclass
class MainJob:
    settings: Settings
    process: subprocess.Popen[bytes]
    console: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.settings.api_port}"

    def output(self) -> str:
        return self.console.read_text(errors="replace")


@pytest.fixture(scope="module")
def main_job(stack_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[MainJob]:
    namespace = f"mj{uuid.uuid4().hex[:8]}."
    settings = up_settings(stack_settings).model_copy(update={"topic_prefix": namespace})
    env = settings_env(settings)
    # A small world: checks and retrains on fewer rows than the real data needs. Its 2015
    # summer has ~116 paid transfers: the 2015 fees (x1.6) put the first model's online error
    # at ~1.3 times its validation error after 50 outcomes (feature drift stays under the
    # share: the features that move most trend with time and are left out), and a challenger
    # on those transfers beats it on their later half (58 rows), so a promotion follows.
    env |= {
        "MLOPS_FC_DRIFT_FEATURE_MIN_ROWS": "100",
        "MLOPS_FC_DRIFT_CHECK_EVERY": "100",
        "MLOPS_FC_DRIFT_ERROR_MIN_ROWS": "50",
        "MLOPS_FC_DRIFT_ERROR_RATIO": "1.2",
    }
    env |= {"MLOPS_FC_PROMOTION": "holdout"}  # the timeline checks expect promotion at the gate
    empty = tmp_path_factory.mktemp("no-data")  # no CSV files: the synthetic world
    console = tmp_path_factory.mktemp("console") / "console.txt"
    argv = [
        sys.executable, "-m", "cli.main", "demo", "--data", str(empty), "--prefix", namespace,
        "--per-season", "200", "--first-season", "2008", "--base-until", "2014", "--last-season", "2015",
    ]  # fmt: skip
    with console.open("wb") as out:
        process = subprocess.Popen(argv, env=env, cwd=PROJECT_ROOT, stdout=out, stderr=subprocess.STDOUT)  # noqa: S603
    job = MainJob(settings, process, console)
    try:
        yield job
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(60)
        stop_services(settings)


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.mark.skipif(CHROMIUM is None, reason="chromium missing: run scripts/setup.sh")
def test_the_flows_page_follows_the_run(main_job: MainJob, browser: DevTools) -> None:  # noqa: F811
    assert wait_until(
        lambda: _answers(f"{main_job.url}/healthz") or main_job.process.poll() is not None, SEEN_S
    )
    assert main_job.process.poll() is None, main_job.output()
    browser.send("Page.enable")
    browser.send("Page.navigate", url=f"{main_job.url}/ui")

    def shows(expression: str) -> bool:
        return bool(browser.eval(expression))

    assert wait_until(lambda: shows("document.readyState === 'complete'"), SEEN_S)
    timeline = "(document.getElementById('timeline')?.textContent ?? '')"
    assert wait_until(lambda: shows(f"{timeline}.includes('promoted v1')"), SEEN_S), main_job.output()
    before = browser.eval(timeline)
    assert "promoted v2" not in before
    assert wait_until(lambda: shows(f"{timeline}.includes('promoted v2')"), SEEN_S), main_job.output()
    # The services `up` supervises, each running; the MAE chart has both lines.
    assert wait_until(lambda: shows("document.querySelectorAll('#services tr').length === 5"), SEEN_S)
    assert browser.eval(
        "[...document.querySelectorAll('#services .state')].every(s => s.textContent === 'running')"
    )
    assert wait_until(lambda: shows("document.querySelectorAll('#mae-chart polyline').length === 2"), SEEN_S)
    assert browser.eval("document.querySelector('#graph g[data-node=\"sink\"]') !== null")  # a sink runs
    # Every edge of the graph, back edges included, is drawn inside the frame (the viewBox).
    assert browser.eval(
        """(() => {
          const svg = document.getElementById('graph'), frame = svg.viewBox.baseVal;
          const edges = [...svg.querySelectorAll('path.edge')];
          return edges.length > 0 && edges.every((path) => {
            const box = path.getBBox();
            return box.x >= frame.x && box.y >= frame.y && box.x + box.width <= frame.x + frame.width
                   && box.y + box.height <= frame.y + frame.height;
          });
        })()"""
    )


def test_the_console_shows_the_url_each_window_and_no_librdkafka_line(main_job: MainJob) -> None:
    assert main_job.process.wait(RUN_S) == 0, main_job.output()
    text = main_job.output()
    lines = text.splitlines()
    assert lines[0].startswith("flows page:") and f"{main_job.url}/ui" in lines[0]
    windows = [line for line in lines if re.match(r"\[ ?\d+/\d+\] 2015 (summer|winter) ", line)]
    assert [w.split("]")[0].replace(" ", "") for w in windows] == [
        f"[{i}/{WINDOWS}" for i in range(1, WINDOWS + 1)
    ], text
    assert all("MAE so far: live" in w for w in windows)
    assert "promoted v2" in text  # decisions are printed as they happen
    assert not [line for line in lines if LIBRDKAFKA_LOG.search(line)], text
