"""Errors of the retrainer: one root, one class per way a retrain stops short."""

from __future__ import annotations


class RetrainerError(Exception):
    """Root of every error raised by the retrainer."""


class LockLostError(RetrainerError):
    """The retrain lock expired or passed to another holder: this retrain publishes nothing more."""


class NotEnoughNewData(RetrainerError, ValueError):
    """Too few labelled transfers since the champion's training window to judge a challenger."""
