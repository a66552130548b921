"""Event times for transfers known only by season and window.

A transfer gets a time inside its window derived from its own id: re-ingesting, or reading
a different set of files, gives every transfer the same time, and sorting by time gives one
total, stable order (ties, which a 64-bit hash makes vanishingly rare, are broken by id).
Summer windows are 1 July to 31 August of the season's first year, winter windows January
of the second year.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from producers.identity import digest

WINDOWS: tuple[str, str] = ("summer", "winter")


def window_bounds(season: int, window: str) -> tuple[datetime, datetime]:
    """[start, end) of a transfer window, UTC."""
    if window == "summer":
        return datetime(season, 7, 1, tzinfo=UTC), datetime(season, 9, 1, tzinfo=UTC)
    if window == "winter":
        return datetime(season + 1, 1, 1, tzinfo=UTC), datetime(season + 1, 2, 1, tzinfo=UTC)
    raise ValueError(f"unknown window {window!r}")


def window_order(window: str) -> int:
    """Summer comes before winter within a season."""
    return WINDOWS.index(window)


def time_in_window(season: int, window: str, fraction: float) -> datetime:
    """The moment ``fraction`` (0 <= f < 1) of the way through the window, to the microsecond."""
    start, end = window_bounds(season, window)
    micros = (end - start) // timedelta(microseconds=1)
    return start + timedelta(microseconds=min(int(fraction * micros), micros - 1))


def hashed_fraction(key: str) -> float:
    """A fraction in [0, 1) that depends only on ``key``."""
    return int(digest("time", key)[:16], 16) / 2**64
