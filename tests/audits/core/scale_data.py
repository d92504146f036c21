"""The ~50,000 rows of the partitioned-input and Dask tests, and how each test loads and audits
them (helpers shared by ``test_partitions`` and ``test_engine_dask``)."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd

from audits.core.config import AuditConfig
from audits.core.loading import load_subject
from audits.data_exposure import run_data_exposure
from audits.fairness import run_fairness
from audits.performance import run_performance
from audits.proxies import proxy_screen
from reports.source import sample_manifest

ROWS = 25_000
CUTS = (0, 1_000, 7_000, 7_001, 15_000, 21_500, ROWS)  # uneven partitions, one of a single row


def _grow(frame: pd.DataFrame, n: int, seed: int, prefix: str) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    out = frame.iloc[rng.integers(0, len(frame), n)].reset_index(drop=True)
    out["customer_id"] = [f"{prefix}{i:07d}" for i in range(n)]
    return out


def _load(churn_parts, **kw):
    m = sample_manifest("churn")
    return load_subject(churn_parts["model"], churn_parts["dirs"]["members"],
                        churn_parts["dirs"]["nonmembers"], target=m["target"],
                        sensitive=m["sensitive_fields"], positive_label=m["positive_label"],
                        personal=m["personal_columns"], trusted=m["trusted_types"],
                        quasi_identifiers=m["quasi_identifiers"], id_column=m["id_column"],
                        name="churn", seed=7, **kw)


def _results(subject) -> dict:
    config = dataclasses.replace(AuditConfig.light(), proxy_models=False, n_jobs=1)
    return {"fairness": run_fairness(subject, config).to_dict(),
            "performance": run_performance(subject, config).to_dict(),
            "data_exposure": run_data_exposure(subject, config).to_dict(),
            "proxies": proxy_screen(subject, config).to_dict("records")}


def _same(a, b) -> None:
    assert json.dumps(a, sort_keys=True, default=str) == json.dumps(b, sort_keys=True,
                                                                     default=str)


