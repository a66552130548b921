"""Where the Evidently HTML of a drift event lives.

``report_uri`` in a DriftDetected is a path relative to the state folder,
``reports/<event_id>.html``: the REST facade serves it at /v1/drift/{event_id}/report by
resolving it under its own ``settings.state_dir``. A relative path stays valid when the
monitor and the facade mount the same volume at different places (containers).
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol
from uuid import UUID

from monitoring.exceptions import ReportPathError
from monitoring.feature_check import FeatureDriftResult

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
