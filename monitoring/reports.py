"""Where the Evidently HTML of a drift event lives.

``report_uri`` in a DriftDetected is a path relative to the state folder,
``reports/<event_id>.html``: the REST facade serves it at /v1/drift/{event_id}/report by
resolving it under its own ``settings.state_dir``. A relative path stays valid when the
monitor and the facade mount the same volume at different places (containers).
"""

from __future__ import annotations

import logging
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Protocol
from uuid import UUID

from monitoring.exceptions import ReportPathError
from monitoring.feature_check import FeatureDriftResult

log = logging.getLogger(__name__)
REPORTS_DIR = "reports"


def report_uri(event_id: UUID) -> str:
    return f"{REPORTS_DIR}/{event_id}.html"


def report_path(state_dir: Path, event_id: UUID) -> Path:
    return state_dir / report_uri(event_id)


def resolve_report(state_dir: Path, uri: str) -> Path:
    """The file a report_uri names, refusing anything outside ``<state_dir>/reports``."""
    root = (state_dir / REPORTS_DIR).resolve()
    path = (state_dir / uri).resolve()
    if path.parent != root or path.suffix != ".html":
        raise ReportPathError(f"{uri!r} is not a drift report under {root}")
    return path


class ReportSink(Protocol):
    """Keeps the HTML of a check for the event about to be emitted; returns its report_uri."""

    def save(self, event_id: UUID, result: FeatureDriftResult) -> str: ...


class FileReports:
    """Reports as files under ``<state_dir>/reports``, the newest ``keep`` of them."""

    def __init__(self, state_dir: Path, keep: int = 200) -> None:
        self.state_dir = state_dir
        self.keep = keep

    def save(self, event_id: UUID, result: FeatureDriftResult) -> str:
        path = report_path(self.state_dir, event_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp")
        result.save_html(temporary)
        temporary.replace(path)  # the facade never serves half a file
        self._prune(keeping=path)
        return report_uri(event_id)

    def _prune(self, keeping: Path) -> None:
        """Delete all but the newest ``keep`` reports: each is a few MB and drift recurs."""
        # File times are coarse (a few ms): the report just written is kept by name, not by time.
        others = [p for p in (self.state_dir / REPORTS_DIR).glob("*.html") if p != keeping]
        others.sort(key=lambda p: p.stat().st_mtime_ns, reverse=True)
        for old in others[self.keep - 1 :]:
            old.unlink(missing_ok=True)


class BackgroundReports(FileReports):
    """FileReports written by a thread of their own: the drift event does not wait for its HTML.

    Building the Evidently report (its plotly widgets) takes seconds, 17 s at load 10: written
    in line, it delayed every drift event, and so the retrain it triggers. The event names
    the file at once; the file appears when it is written (the facade answers 404 until
    then). ``close`` waits for the reports still being written.
    """

    def __init__(self, state_dir: Path, keep: int = 200) -> None:
        super().__init__(state_dir, keep)
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="drift-report")
        self.pending: list[Future[str]] = []

    def save(self, event_id: UUID, result: FeatureDriftResult) -> str:
        self.pending = [f for f in self.pending if not f.done()]
        self.pending.append(self._writer.submit(self._write, event_id, result))
        return report_uri(event_id)

    def _write(self, event_id: UUID, result: FeatureDriftResult) -> str:
        try:
            return FileReports.save(self, event_id, result)
        except Exception:  # an unwritable report must not stop drift detection
            log.exception("the drift report of event %s was not written", event_id)
            raise

    def close(self) -> None:
        self._writer.shutdown(wait=True)
