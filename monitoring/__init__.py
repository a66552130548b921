"""The drift monitor: compares what the model sees and how wrong it is with its reference.

`mlops-fc monitor` runs one per deployment. It reads predictions.results (the vectors that
were scored) and transfers.completed (the real fees), and writes DriftDetected events to
monitoring.drift. The decision logic (``monitor.DriftMonitor``) is pure; ``loop`` is the thin
Kafka shell and ``bootstrap`` the wiring.
"""

from monitoring.config import DriftConfig
from monitoring.exceptions import DriftError, DriftPublishError, ReportPathError
from monitoring.feature_check import FeatureDriftResult, feature_drift
from monitoring.monitor import DriftMonitor
from monitoring.reference import Reference, ReferenceSource, StoreReferences
from monitoring.reports import BackgroundReports, FileReports, ReportSink, report_path, resolve_report

__all__ = [
    "BackgroundReports",
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
