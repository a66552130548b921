"""skops serialization with an explicit allow-list: pickle can run arbitrary code on load."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import skops.io as sio

from modelstore.exceptions import ArtifactFormatError, UntrustedTypeError

# skops already trusts the common sklearn estimators and numpy ufuncs; these are the extra
# names our pipelines need (HistGradientBoosting trees, OneHotEncoder dtypes, categorical
# HGB's `partial(check_array, ...)`). A partial only wraps a function that must itself be
# trusted, so allowing it opens nothing on its own. Grow the list by review, not by prefix.
TRUSTED_TYPES: frozenset[str] = frozenset(
    {
        "functools.partial",
        "numpy.dtype",
        "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
        "sklearn.utils.validation.check_array",
    }
)


def _needed_types(model_bytes: bytes, extra_trusted: Iterable[str]) -> list[str]:
    """Names beyond skops' defaults; raises if any is outside the allow-list."""
    try:
        # Reads only the payload's schema: nothing is imported or constructed.
        needed = sorted(set(sio.get_untrusted_types(data=model_bytes)))
    except Exception as exc:  # a zip/JSON error from skops means the payload is broken
        raise ArtifactFormatError(f"model payload is not a skops file: {exc}") from exc
    refused = [name for name in needed if name not in TRUSTED_TYPES | set(extra_trusted)]
    if refused:
        raise UntrustedTypeError(f"model uses types outside the allow-list: {refused}")
    return needed


def dump_model(model: Any, extra_trusted: Iterable[str] = ()) -> bytes:
    """skops bytes of ``model``; refused at save time if it could not be loaded back."""
    data: bytes = sio.dumps(model)
    _needed_types(data, extra_trusted)
    return data


def load_model(model_bytes: bytes, extra_trusted: Iterable[str] = ()) -> Any:
    """Rebuild a model from skops bytes, trusting only allow-listed types."""
    needed = _needed_types(model_bytes, extra_trusted)
    try:
        return sio.loads(model_bytes, trusted=needed)
    except Exception as exc:  # skops raises assorted errors for payloads it cannot rebuild
        raise ArtifactFormatError(f"model payload cannot be rebuilt: {exc}") from exc


def required_types(model_bytes: bytes) -> list[str]:
    """The non-default names a payload needs; MLflow's skops flavour wants them at log time."""
    return sorted(set(sio.get_untrusted_types(data=model_bytes)))
