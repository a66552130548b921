"""The drift reference sample as column-oriented JSON: compact once deflated, no pickle."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pandas as pd

from modelstore.exceptions import ArtifactFormatError

MAX_REFERENCE_ROWS = 5_000
_NUMERIC_KINDS = frozenset("biuf")


def _column(series: pd.Series) -> dict[str, Any]:
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        values = [None if pd.isna(v) else str(v) for v in series]
        return {"dtype": "category", "values": values}
    if isinstance(dtype, pd.DatetimeTZDtype) or dtype.kind == "M":
        utc = pd.to_datetime(series, utc=True)
        values = [None if pd.isna(v) else v.isoformat() for v in utc]
        tz = str(dtype.tz) if isinstance(dtype, pd.DatetimeTZDtype) else None
        return {"dtype": "datetime", "tz": tz, "values": values}
    if dtype.kind in _NUMERIC_KINDS:
        # NaN becomes null so the JSON stays standard; ints and bools round-trip exactly.
        raw = series.to_numpy().tolist()
        values = [None if isinstance(v, float) and math.isnan(v) else v for v in raw]
        return {"dtype": dtype.str, "values": values}
    if dtype.kind == "O" or pd.api.types.is_string_dtype(dtype):
        # Object columns hold categories here (club, position): stored as text.
        values = [None if pd.isna(v) else str(v) for v in series]
        return {"dtype": "str", "values": values}
    raise ValueError(f"reference column {series.name!r} has unsupported dtype {dtype}")


def encode_reference(frame: pd.DataFrame) -> bytes:
    """JSON bytes of ``frame`` (at most MAX_REFERENCE_ROWS rows, string column names)."""
    if len(frame) > MAX_REFERENCE_ROWS:
        raise ValueError(f"reference sample has {len(frame)} rows; at most {MAX_REFERENCE_ROWS}")
    columns = []
    for name in frame.columns:
        if not isinstance(name, str):
            raise ValueError(f"reference column names must be strings, got {name!r}")
        columns.append({"name": name, **_column(frame[name])})
    return json.dumps({"rows": len(frame), "columns": columns}, separators=(",", ":")).encode()


def _series(spec: dict[str, Any]) -> pd.Series:
    kind, values = spec["dtype"], spec["values"]
    if kind == "category":
        return pd.Series(values, dtype="category")
    if kind == "datetime":
        parsed = pd.to_datetime(pd.Series(values, dtype=object), utc=True)
        return parsed.dt.tz_convert(spec["tz"]) if spec["tz"] else parsed.dt.tz_localize(None)
    if kind == "str":
        return pd.Series(values, dtype=object)
    dtype = np.dtype(kind)
    if dtype.kind not in _NUMERIC_KINDS:
        raise ArtifactFormatError(f"reference column has unknown dtype {kind!r}")
    if dtype.kind == "f":
        return pd.Series([math.nan if v is None else v for v in values], dtype=dtype)
    return pd.Series(values, dtype=dtype)


def decode_reference(data: bytes) -> pd.DataFrame:
    """The frame encoded by :func:`encode_reference`."""
    try:
        doc = json.loads(data)
        series = {spec["name"]: _series(spec) for spec in doc["columns"]}
        frame = pd.DataFrame(series, index=pd.RangeIndex(doc["rows"]))
    except ArtifactFormatError:
        raise
    except (ValueError, KeyError, TypeError) as exc:
        raise ArtifactFormatError(f"reference sample is malformed: {exc}") from exc
    return frame
