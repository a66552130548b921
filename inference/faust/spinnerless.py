"""Faust's worker without the terminal spinner that turns debug logging on for everything."""

from __future__ import annotations

import logging

import faust


class SpinnerlessWorker(faust.Worker):
    """Faust's worker without its progress spinner, so the root logger keeps the asked level."""

    def on_setup_root_logger(self, logger: logging.Logger, level: int) -> None:
        self.spinner = None  # no spinner: Faust then leaves the root logger and its handler alone
