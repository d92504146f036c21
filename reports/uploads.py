"""Files uploaded in the app: saved by content hash, inspected for trust before anything loads.

An upload is written to ``home_dir() / "uploads" / <SHA-256 of its bytes> / <sanitised name>``
(folder mode 0700, file mode 0600): the path names the content, so the same bytes always land at
the same path and the audit cache (``reports.source``), keyed by file hashes, finds the
earlier audit of the same files. The browser-supplied file name is reduced to its last path
component and a safe character set, so a name such as ``../../x.csv`` cannot leave the folder.

Before a model file is loaded, :func:`inspect_model_file` says what trusting it involves: for a
skops file, the types skops would refuse unless trusted by name (``skops.io.get_untrusted_types``:
skops only builds the types it is told to allow, so nothing else runs); for a pickle or joblib
file, that loading it runs whatever code its author put in it. :func:`model_input_columns` loads
the model only with the trust the user gave and returns the input columns it was fitted on.
"""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from audits.core import messages as msg
from audits.core.errors import InputError
from audits.core.loading import PICKLE_SUFFIXES, load_model
from audits.core.paths import home_dir

__all__ = ["upload_dir", "safe_filename", "save_upload", "ModelFileInfo", "inspect_model_file",
           "model_input_columns", "MAX_NAME"]

MAX_NAME = 120
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def upload_dir() -> Path:
    """Where uploads are kept: ``home_dir() / "uploads"``."""
    return home_dir() / "uploads"


def safe_filename(name: str) -> str:
    """A file name safe to create inside a folder, keeping the original's stem and suffix.

    Only the last component of a ``/`` or ``\\`` separated path is kept, accents are folded to
    ASCII, other characters outside ``[A-Za-z0-9._-]`` become ``_``, leading dots are removed
    (no hidden files, no ``..``) and the result is at most :data:`MAX_NAME` characters with its
    suffix kept. An empty result becomes ``"upload"``.
    """
    base = re.split(r"[/\\]", str(name))[-1]
    base = unicodedata.normalize("NFKD", base).encode("ascii", "ignore").decode("ascii")
    base = _UNSAFE.sub("_", base).lstrip(".")
    base = re.sub(r"_{2,}", "_", base)
    if not base.strip("._-"):
        return "upload"
    if len(base) > MAX_NAME:
        stem, dot, suffix = base.rpartition(".")
        suffix = suffix[:16]
        base = (stem[:MAX_NAME - len(suffix) - 1] + "." + suffix) if dot and stem else \
            base[:MAX_NAME]
    return base


def save_upload(name: str, data: bytes) -> Path:
    """Save uploaded bytes under their SHA-256; return the path (the same for the same bytes).

    Parameters
    ----------
    name : the file name the browser sent (sanitised with :func:`safe_filename`).
    data : the file's content.

    Returns
    -------
    Path
        ``upload_dir() / sha256(data) / safe_filename(name)``, written atomically with mode 0600
        (an existing file with the same content is kept as it is).
    """
    digest = hashlib.sha256(data).hexdigest()
    folder = upload_dir() / digest
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = folder / safe_filename(name)
    if path.resolve().parent != folder.resolve():  # defensive: safe_filename already prevents it
        raise InputError(msg.UPLOAD_NAME, name=name)
    if path.is_file() and path.stat().st_size == len(data):
        return path
    tmp = folder / f".{path.name}.{os.getpid()}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.chmod(tmp, 0o600)
    tmp.replace(path)
    return path


@dataclass(frozen=True)
class ModelFileInfo:
    """What loading a model file involves.

    ``format`` is ``"skops"``, ``"pickle"`` or a format that is data, not code
    (``xgboost-json``, ``xgboost-ubjson``, ``lightgbm-text``, ``onnx``:
    :mod:`audits.core.formats`); ``untrusted`` lists the types a skops file holds
    that skops does not trust by default (each must be trusted by name before it loads); a pickle
    has none listed, because it is trusted or refused as a whole.
    """

    format: str
    untrusted: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return {"format": self.format, "untrusted": list(self.untrusted)}


def inspect_model_file(path: str | Path) -> ModelFileInfo:
    """Say how ``path`` would load, without loading it (no code from the file runs).

    Raises InputError when the file is missing or is not a readable skops archive.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(msg.UPLOAD_GONE, name=path.name)
    if path.suffix.lower() in PICKLE_SUFFIXES:
        return ModelFileInfo("pickle")
    from audits.core.formats import model_format

    fmt = model_format(path)
    if fmt != "skops":  # data, not code: nothing to trust
        return ModelFileInfo(fmt)
    import skops.io as sio

    try:
        untrusted = sio.get_untrusted_types(file=path)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, EOFError) as e:
        raise InputError(msg.UPLOAD_NOT_SKOPS, name=path.name,
                         error=f"{type(e).__name__}: {e}") from e
    return ModelFileInfo("skops", tuple(sorted(set(untrusted))))


def model_input_columns(path: str | Path, *, trusted: Sequence[str] = (),
                        trust_pickle: bool = False) -> list[str] | None:
    """The input columns the model was fitted on (``feature_names_in_``), or None if it did not
    record them. Loads the model with exactly the trust given; raises InputError otherwise."""
    model = load_model(path, trusted=trusted, trust_pickle=trust_pickle)
    names = getattr(model, "feature_names_in_", None)
    if names is None:
        names = getattr(model, "feature_name_", None)  # LightGBM's own attribute
    return None if names is None else [str(n) for n in names]
