"""The drift monitor: compares what the model sees and how wrong it is with its reference.

`mlops-fc monitor` runs one per deployment. It reads predictions.results (the vectors that
were scored) and transfers.completed (the real fees), and writes DriftDetected events to
monitoring.drift. The decision logic (``monitor.DriftMonitor``) is pure; ``loop`` is the thin
Kafka shell and ``bootstrap`` the wiring.
"""

from inference.drift.config import DriftConfig
from inference.drift.exceptions import DriftError, DriftPublishError, ReportPathError
from inference.drift.feature_check import FeatureDriftResult, feature_drift
from inference.drift.monitor import DriftMonitor
from inference.drift.reference import Reference, ReferenceSource, StoreReferences
from inference.drift.reports import FileReports, ReportSink, report_path, resolve_report

__all__ = [
    "DriftConfig",
    "DriftError",
    "DriftMonitor",
    "DriftPublishError",
    "FeatureDriftResult",
    "FileReports",
    "Reference",
    "ReferenceSource",
    "ReportPathError",
    "ReportSink",
    "StoreReferences",
    "feature_drift",
    "report_path",
    "resolve_report",
]
