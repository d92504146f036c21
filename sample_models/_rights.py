"""The samples' data-rights columns and erasure requests, with planted violations (issue 18).

Drawn after each sample's own data, from their own random stream (``[seed, sample index, 18]``),
and appended after the existing columns, so that every existing column, the model and every
planted effect stay byte-identical; none of these columns is a model input.

- ``churn``: a consent column covering "profiling for retention offers" that says no for about 2%
  of the customers, a marketing consent the model's purpose does not need, collection dates of
  which about 1.5% are older than the 24-month retention the inventory states for
  ``support_calls``, a data source that is a third party or a broker for about 3.5% (shadow
  profiles; the inventory says ``age`` comes from a broker), an opt-out of automated decisions
  (and of training) for about 1.2%, and 132 erasure requests: 80 customers still in the training
  rows, 12 in the holdout, 40 gone.
- ``lead_scoring`` (the control): the same kinds of columns, every row in order, and 30 erasure
  requests whose customers are gone.
- ``purchase_propensity``: 40 erasure requests, all for ordinary training customers (not the
  planted outliers), made after the model was trained: the memorising forest still exposes them.

Each function returns the frames with the new columns, the erasure requests (a frame written to
``erased.csv``), the declaration (the manifest's ``rights``, in the form
``audits.core.rights.declaration_from_spec`` reads) and the planted counts measured on the
masks drawn here (the manifest's ``planted_rights``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

TRAINED_AT = "2026-10-01"
ERASED_FILE = "erased.csv"
_DAY = np.timedelta64(1, "D")


def _dates(trained_at: str, age_days: np.ndarray) -> np.ndarray:
    return (np.datetime64(trained_at, "D") - age_days.astype(int) * _DAY).astype(str)


def _ages(rng, n: int, p_old: float) -> tuple[np.ndarray, np.ndarray]:
    """Days before training each row was collected: within 700 days, or (planted) 800 to 1,300
    days, far from the 730-day retention whatever the length of a month."""
    old = rng.random(n) < p_old
    return np.where(old, rng.integers(800, 1301, n), rng.integers(0, 701, n)), old


def _new_ids(rng, taken: set, n: int, prefix: str) -> list[str]:
    out: list[str] = []
    while len(out) < n:
        i = f"{prefix}{int(rng.integers(0, 10 ** 7)):07d}"
        if i not in taken and i not in out:
            out.append(i)
    return out


def _requests(rng, ids: list[str], trained_at: str) -> pd.DataFrame:
    after = rng.integers(4, 56, len(ids))
    frame = pd.DataFrame({"customer_id": ids, "requested_at": _dates(trained_at, -after)})
    return frame.iloc[rng.permutation(len(frame))].reset_index(drop=True)


def churn_rights(rng, members: pd.DataFrame, nonmembers: pd.DataFrame):
    parts = {"members": members.copy(), "nonmembers": nonmembers.copy()}
    masks: dict[str, dict] = {}
    for name, frame in parts.items():
        n = len(frame)
        no_consent = rng.random(n) < 0.021
        age, old = _ages(rng, n, 0.015)
        src = rng.choice(["first party", "third party", "broker"], n, p=[0.965, 0.01, 0.025])
        opted = rng.random(n) < 0.012
        frame["consent_retention"] = (~no_consent).astype(int)
        frame["consent_marketing"] = (rng.random(n) < 0.65).astype(int)
        frame["collected_at"] = _dates(TRAINED_AT, age)
        frame["data_source"] = src
        frame["opt_out_automated"] = opted.astype(int)
        masks[name] = {"no_consent": no_consent, "old": old, "shadow": src != "first party",
                       "opted_out": opted}
    ids = {k: f["customer_id"].astype(str).tolist() for k, f in parts.items()}
    in_train = list(rng.choice(ids["members"], 80, replace=False))
    in_hold = list(rng.choice(ids["nonmembers"], 12, replace=False))
    gone = _new_ids(rng, set(ids["members"]) | set(ids["nonmembers"]), 40, "C")
    erased = _requests(rng, in_train + in_hold + gone, TRAINED_AT)
    retention = {f: "36 months" for f in ("tenure_months", "plan", "monthly_spend",
                                          "payment_method", "contract_type", "postcode_region",
                                          "age")}
    retention["support_calls"] = "24 months"
    origins = {f: "first-party" for f in retention} | {"age": "third-party broker"}
    spec = {"consent": {"consent_retention": ["profiling for retention offers"],
                        "consent_marketing": ["marketing emails"]},
            "purposes": ["profiling for retention offers"], "collected_at": "collected_at",
            "data_source": "data_source",
            "opt_out": {"column": "opt_out_automated", "covers_training": True},
            "retention": retention, "origins": origins, "erased": ERASED_FILE,
            "trained_at": TRAINED_AT}
    m, h = masks["members"], masks["nonmembers"]
    planted = {
        "consent_missing": {"training": int(m["no_consent"].sum()),
                            "holdout": int(h["no_consent"].sum())},
        "retention_exceeded": {"training": int(m["old"].sum()), "holdout": int(h["old"].sum()),
                               "retention_days": 730, "input": "support_calls"},
        "shadow_profiles": {"training": int(m["shadow"].sum()),
                            "holdout": int(h["shadow"].sum()),
                            "third_party_inputs": ["age"]},
        "opt_out": {"training": int(m["opted_out"].sum()),
                    "holdout": int(h["opted_out"].sum())},
        "erasure": {"requests": len(erased), "in_training": len(in_train),
                    "in_holdout": len(in_hold), "gone": len(gone)}}
    return parts["members"], parts["nonmembers"], erased, spec, planted


def lead_scoring_rights(rng, members: pd.DataFrame, nonmembers: pd.DataFrame):
    parts = {"members": members.copy(), "nonmembers": nonmembers.copy()}
    for frame in parts.values():
        n = len(frame)
        age, _ = _ages(rng, n, 0.0)
        frame["consent_sales_contact"] = 1
        frame["collected_at"] = _dates(TRAINED_AT, age)
        frame["data_source"] = "first party"
        frame["opt_out_automated"] = 0
    taken = set(parts["members"]["lead_id"].astype(str)) | set(
        parts["nonmembers"]["lead_id"].astype(str))
    erased = _requests(rng, _new_ids(rng, taken, 30, "L"), TRAINED_AT).rename(
        columns={"customer_id": "lead_id"})
    inputs = ("lead_source", "industry", "company_size", "job_level", "country", "pages_visited",
              "emails_opened", "webinar_attended", "days_since_contact")
    spec = {"consent": {"consent_sales_contact": ["sales prioritisation"]},
            "purposes": ["sales prioritisation"], "collected_at": "collected_at",
            "data_source": "data_source",
            "opt_out": {"column": "opt_out_automated", "covers_training": True},
            "retention": {f: "24 months" for f in inputs},
            "origins": {f: "first-party" for f in inputs}, "erased": ERASED_FILE,
            "trained_at": TRAINED_AT}
    zero = {"training": 0, "holdout": 0}
    planted = {"consent_missing": zero, "retention_exceeded": zero, "shadow_profiles": zero,
               "opt_out": zero, "erasure": {"requests": len(erased), "in_training": 0,
                                            "in_holdout": 0, "gone": len(erased)}}
    return parts["members"], parts["nonmembers"], erased, spec, planted


def purchase_propensity_rights(rng, members: pd.DataFrame, nonmembers: pd.DataFrame,
                               outliers: np.ndarray):
    ordinary = members.loc[~outliers, "customer_id"].astype(str).tolist()
    erased = _requests(rng, list(rng.choice(ordinary, 40, replace=False)), TRAINED_AT)
    spec = {"erased": ERASED_FILE, "trained_at": TRAINED_AT}
    planted = {"erasure": {"requests": len(erased), "in_training": len(erased), "in_holdout": 0,
                           "gone": 0}}
    return members, nonmembers, erased, spec, planted


def add_rights(name: str, rng, members: pd.DataFrame, nonmembers: pd.DataFrame, hidden: dict):
    """Dispatch to the sample's function; see the module docstring."""
    if name == "churn":
        return churn_rights(rng, members, nonmembers)
    if name == "lead_scoring":
        return lead_scoring_rights(rng, members, nonmembers)
    outliers = hidden["members"]["_outlier"].to_numpy(dtype=bool)
    return purchase_propensity_rights(rng, members, nonmembers, outliers)
