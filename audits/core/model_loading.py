"""Load a fitted model from its file, safely, with clear errors.

Model files are loaded with skops (safe: no code runs); types skops does not trust are listed and
must be trusted by name. XGBoost JSON/UBJSON, LightGBM text and ONNX files are data too
(:mod:`audits.core.formats`). joblib/pickle files load only when the caller explicitly trusts
pickles, because loading a pickle runs code. Each problem (a missing, corrupt or untrusted
file, an object that is not a fitted model, a classifier without ``predict_proba``) raises
:class:`~audits.core.errors.InputError` naming the file and the fix. :mod:`audits.core.loading`
re-exports :func:`load_model` and builds the audit subject.
"""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path
from typing import Any, Sequence

from audits.core import messages as msg
from audits.core.errors import InputError
from audits.core.formats import NATIVE_FORMATS, load_native, model_format
from audits.core.task import model_task

__all__ = ["load_model", "file_sha256", "need_file", "PICKLE_SUFFIXES"]

PICKLE_SUFFIXES = {".pkl", ".pickle", ".joblib"}


def file_sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def need_file(path: str | Path, what: str, field: str) -> Path:
    path = Path(path)
    if not path.exists():
        raise InputError(msg.FILE_MISSING, what=what, path=path, field=field)
    if not path.is_file():
        raise InputError(msg.FILE_IS_FOLDER, what=what, path=path, field=field)
    return path


def load_model(path: str | Path, *, trusted: Sequence[str] = (), trust_pickle: bool = False) -> Any:
    """Load a fitted model from a skops, XGBoost, LightGBM or ONNX file (or a pickle, only when
    ``trust_pickle``).

    Raises InputError for a missing, corrupt or untrusted file, for an object that is not a
    model, and for a classifier without ``predict_proba``.
    """
    path = need_file(path, "model file", "model")
    fmt = model_format(path)
    if fmt == "pickle":
        model = _load_pickle(path, trust_pickle)
    elif fmt in NATIVE_FORMATS:
        model = load_native(path, fmt)
    else:
        model = _load_skops(path, trusted)
    _check_model(model, path)
    return model


def _load_skops(path: Path, trusted: Sequence[str]) -> Any:
    import skops.io as sio

    try:
        untrusted = sio.get_untrusted_types(file=path)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, EOFError) as e:
        error = f"{type(e).__name__}: {e}"
        raise InputError(msg.MODEL_LOOKS_LIKE_PICKLE if _looks_like_pickle(path) else
                         msg.MODEL_NOT_SKOPS, path=path, error=error) from e
    missing = sorted(set(untrusted) - set(trusted))
    if missing:
        raise InputError(msg.MODEL_UNTRUSTED_TYPES, path=path, types=missing)
    try:
        return sio.load(path, trusted=list(untrusted))
    except Exception as e:  # skops raises many kinds on a damaged archive
        raise InputError(msg.MODEL_SKOPS_FAILED, path=path,
                         error=f"{type(e).__name__}: {e}") from e


def _looks_like_pickle(path: Path) -> bool:
    with open(path, "rb") as f:
        return f.read(1) == b"\x80"


def _load_pickle(path: Path, trust_pickle: bool) -> Any:
    if not trust_pickle:
        raise InputError(msg.MODEL_PICKLE_REFUSED, path=path)
    import joblib

    try:
        return joblib.load(path)
    except Exception as e:
        raise InputError(msg.MODEL_PICKLE_FAILED, path=path,
                         error=f"{type(e).__name__}: {e}") from e


def _check_model(model: Any, path: Path) -> None:
    kind = type(model).__name__
    if not hasattr(model, "predict"):
        raise InputError(msg.MODEL_NOT_A_MODEL, path=path, kind=kind)
    if model_task(model) == "regression":
        _check_fitted(model, path)
        return
    if not hasattr(model, "predict_proba"):
        raise InputError(msg.MODEL_NO_PROBA, path=path, kind=kind)
    if not hasattr(model, "classes_"):
        raise InputError(msg.MODEL_NOT_FITTED, path=path, kind=kind)


def _check_fitted(model: Any, path: Path) -> None:
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    if getattr(model, "feature_names_in_", None) is not None:
        return
    try:
        check_is_fitted(model)
    except NotFittedError as e:
        raise InputError(msg.MODEL_NOT_FITTED, path=path, kind=type(model).__name__) from e
    except TypeError:  # not a scikit-learn estimator: the data check will tell
        pass
