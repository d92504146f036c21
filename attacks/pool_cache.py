"""The reference pool shared within a run and cached on disk (step 3 of :mod:`attacks.pool`).

A pool is computed once per audit (the run's cache, :mod:`audits.core.cache`) and kept on disk
under ``home_dir()/cache/pools`` as NumPy arrays (never a pickle: read with
``allow_pickle=False``): for every record, each reference model's probability of the record's
true label, and the keep matrix; not the models. The key is a SHA-256 of the model's SHA-256
(or joblib's hash of the object), a hash of the data's rows, K and the pool's sizes, the seed,
the recipe when it is not the model's own, the task and the protocol version
(``POOL_VERSION``), so a light and a default profile never share a pool. A damaged file is
rebuilt; a new one is written to a temporary name and moved into place.
"""

from __future__ import annotations

import hashlib
import json
import os

import numpy as np
import pandas as pd

from attacks.pool import (
    POOL_VERSION,
    PoolUnavailable,
    ReferencePool,
    build_pool,
    effective_k,
    membership_records,
    pool_key,
)
from audits.core.cache import RunCache, shared
from audits.core.config import AuditConfig
from audits.core.subject import AuditSubject

__all__ = ["get_pool", "cache_key"]


def _data_hash(subject: AuditSubject) -> str:
    h = hashlib.sha256()
    cols = [*subject.feature_columns, subject.target]
    for part in ("members", "nonmembers"):
        frame = subject.frame(part)[cols]
        h.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
        h.update(b"|")
    h.update(json.dumps(cols).encode())
    return h.hexdigest()


def _model_hash(subject: AuditSubject) -> str:
    sha = subject.files.get("model", {}).get("sha256") if subject.files else None
    if sha:
        return sha
    import joblib

    return "joblib:" + joblib.hash(subject.model)


def cache_key(subject: AuditSubject, config: AuditConfig) -> str:
    key = {"version": POOL_VERSION, "model": _model_hash(subject),
           "data": _data_hash(subject), "pool": list(pool_key(config)),
           "seed": int(subject.seed)}
    recipe = getattr(subject, "recipe", None)
    if recipe is not None and recipe.origin != "model":  # the user's or the file's recipe
        key["recipe"] = recipe.to_dict()
    if subject.task != "binary":
        key["task"] = subject.task
    blob = json.dumps(key, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


def _cache_path(key: str):
    from audits.core.paths import home_dir

    return home_dir() / "cache" / "pools" / f"{key[:40]}.npz"


def get_pool(subject: AuditSubject, config: AuditConfig, *, cache: RunCache | None = None,
             use_cache: bool = True, progress=None) -> ReferencePool:
    """The audit's reference pool: built once per run (the run's cache), read from the disk
    cache when the same model, data, pool sizes and seed were pooled before. Raises
    PoolUnavailable."""
    k = effective_k(config)
    got = shared(cache, ("reference_pool", pool_key(config), use_cache),
                 lambda: _get(subject, config, k, use_cache, progress, cache))
    if isinstance(got, PoolUnavailable):
        raise got
    return got


def _get(subject, config, k, use_cache, progress, cache):
    records = membership_records(subject, config, cache=cache)
    path = None
    if use_cache:
        key = cache_key(subject, config)
        path = _cache_path(key)
        if path.is_file():
            try:
                with np.load(path, allow_pickle=False) as z:
                    if np.array_equal(z["row"], records.row) and z["ref_p"].shape[0] == k:
                        params = json.loads(str(z["params"]))
                        return ReferencePool(records=records, ref_p=z["ref_p"], keep=z["keep"],
                                             params={**params, "cache": "hit"})
            except (OSError, ValueError, KeyError):
                pass  # a damaged cache file is rebuilt
    if progress:
        progress(f"training {k} reference models", 0.05)
    try:
        pool = build_pool(subject, config, k=k, records=records)
    except PoolUnavailable as e:
        return e
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + f".{os.getpid()}.tmp.npz")
        np.savez(tmp, ref_p=pool.ref_p, keep=pool.keep, row=records.row,
                 params=json.dumps(pool.params))
        os.replace(tmp, path)
    return ReferencePool(records=records, ref_p=pool.ref_p, keep=pool.keep,
                         params={**pool.params, "cache": "miss" if use_cache else "off"})
