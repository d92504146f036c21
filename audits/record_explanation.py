"""One customer's explanation: SHAP and LIME side by side, the one function behind the report's
example customers and the drill-down.

The explainability probe (:mod:`audits.explainability`) explains three example customers in the
report (highest score, lowest score, score nearest 0.5); a board member may ask about another
one, named by the pseudonym the report uses. Both go through :func:`explain_row`, so a customer
the report explained gets the report's numbers back on demand:

- SHAP (Lundberg & Lee 2017): :func:`audits.shap_values.explain` on the audited model, one row at
  a time, with the same background rows (a seeded sample of up to 2,000 members, seed
  ``derive_seed(seed, "explainability", "rows")``, :func:`background`) and the same explainer
  family (exact TreeSHAP for trees, Lundberg et al. 2020; the permutation explainer when the
  probe used it). The contributions add up to the model's output on the explained scale:
  ``base + sum(shap) = output``.
- LIME (Ribeiro et al. 2016): :func:`audits.lime_local.explain_local` over the probe's seeds
  (``seed_family(derive_seed(seed, "explainability", "lime"), n_seeds)``), with its stability
  over seeds (mean pairwise top-k Jaccard; Alvarez-Melis & Jaakkola 2018) and its top-k feature
  and sign agreement with SHAP (Krishna et al. 2022). These describe this customer; whether LIME
  explanations may be given as reasons is judged on a random sample of customers by the probe,
  not on one customer.

A model LIME cannot run on keeps its SHAP side: LIME's columns are then missing (NaN in a frame,
None in the stored table) and a note says why. Personal columns used as model inputs are
redacted; the customer is named by pseudonym only.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from audits.core.config import AuditConfig
from audits.core.errors import InputError
from audits.core.results import Table
from audits.core.seeds import derive_seed, seed_family
from audits.core.subject import PARTS, AuditSubject

__all__ = ["explained_label", "explained_scores", "REDACTED", "LOCAL_COLUMNS",
           "SUMMARY_COLUMNS", "background", "explain_row",
           "example_records", "explain_record", "find_record", "importance_ranks",
           "sample_rows"]

REDACTED = "[redacted]"
N_BACKGROUND = 2000  # members behind SHAP's background and LIME's statistics
LOCAL_COLUMNS = ("record", "reason", "feature", "value", "shap", "shap_rank", "lime_weight",
                 "lime_sd", "lime_rank")
SUMMARY_COLUMNS = ("record", "reason", "score", "shap_base", "shap_output", "scale",
                   "lime_stability", "lime_shap_feature_agreement", "lime_shap_sign_agreement",
                   "lime_shap_spearman")


def explained_label(subject: AuditSubject, label=None):
    """The class whose output is explained: ``label`` when given (the app may pick any class),
    else the favourable class of a multiclass model (else its positive label, else its last
    class), the positive label of a binary one; None for a regression (its prediction)."""
    if subject.task == "regression":
        return None
    classes = list(subject.classes)
    if label is not None:
        matches = [c for c in classes if c == label or str(c) == str(label)]
        if not matches:
            raise InputError(f"The class {label!r} is not one of the model's classes "
                             f"{[_plain(c) for c in classes]}. Pick one of them.")
        return matches[0]
    if subject.task == "multiclass":
        for c in (subject.favourable_label, subject.positive_label):
            if c is not None:
                return c
        return classes[-1]
    return subject.positive_label


def explained_scores(subject: AuditSubject, part: str, label=None) -> np.ndarray:
    """The explained output of each row: the probability of the explained class, or a
    regression's prediction."""
    if subject.task == "binary" and label is None:
        return subject.scores(part)
    if subject.task == "regression":
        return subject.predictions(part)
    label = explained_label(subject, label)
    return subject.proba(part)[:, list(subject.classes).index(label)]


def _plain(v):
    return v.item() if hasattr(v, "item") else v


def sample_rows(n_total: int, n: int, seed: int) -> np.ndarray:
    """``n`` of ``n_total`` row indices drawn without replacement by ``seed``, sorted (all rows
    when there are no more than ``n``)."""
    if n_total <= n:
        return np.arange(n_total)
    return np.sort(np.random.default_rng(seed).choice(n_total, n, replace=False))


def importance_ranks(v: np.ndarray) -> np.ndarray:
    """Rank 1 = the largest absolute value; ties keep their order, NaN counts as 0."""
    order = np.argsort(-np.abs(np.nan_to_num(np.asarray(v, dtype=float))), kind="stable")
    out = np.empty(len(v), dtype=int)
    out[order] = np.arange(1, len(v) + 1)
    return out


def background(subject: AuditSubject) -> pd.DataFrame:
    """The members behind SHAP's background and LIME's sampling statistics (seeded)."""
    rows = sample_rows(len(subject.members), N_BACKGROUND,
                       derive_seed(subject.seed, "explainability", "rows"))
    return subject.X("members").iloc[rows].reset_index(drop=True)


def _value_text(v, personal: bool) -> str:
    if personal:
        return REDACTED
    return f"{float(v):g}" if isinstance(v, (float, np.floating)) else str(v)


def explain_row(subject: AuditSubject, part: str, i: int, *, pid: str, reason: str,
                explainer: str = "tree", n_lime_seeds: int = 10, lime_samples: int = 1000,
                top_k: int = 5, Xb: pd.DataFrame | None = None, label=None
                ) -> tuple[list[tuple], dict, str | None]:
    """SHAP and LIME for the customer in row ``i`` of ``part``.

    Parameters
    ----------
    subject : the audited subject.
    part, i : the customer's part (``members`` or ``nonmembers``) and row position.
    pid, reason : the customer's pseudonym and why they are explained.
    explainer : the probe's explainer; ``"permutation"`` forces the model-agnostic path.
    n_lime_seeds, lime_samples, top_k : LIME's runs, perturbation budget and k.
    Xb : the background rows (default :func:`background`; the probe passes its own copy).
    label : the class explained (default :func:`explained_label`: the favourable class of a
        multiclass model); ignored for a regression.

    Returns
    -------
    (rows, summary, note) : the ``local_explanations`` rows of this customer
        (:data:`LOCAL_COLUMNS`), its ``local_summary`` row as a dict (:data:`SUMMARY_COLUMNS`)
        and a note when LIME could not run (else None).
    """
    from audits.lime_local import explain_local
    from audits.shap_values import explain

    Xb = background(subject) if Xb is None else Xb
    features = list(subject.feature_columns)
    personal = set(subject.personal_columns)
    Xr = subject.X(part).iloc[[i]].reset_index(drop=True)
    label = explained_label(subject, label)
    exp = explain(subject.model, Xr, positive_label=label, background=Xb,
                  random_state=derive_seed(subject.seed, "explainability", "rows"),
                  force_agnostic=explainer == "permutation")
    seeds = seed_family(derive_seed(subject.seed, "explainability", "lime"), n_lime_seeds)
    note = None
    try:
        res = explain_local(subject.model, Xr, Xb.iloc[:N_BACKGROUND], exp.values,
                            positive_label=label, seeds=seeds,
                            num_samples=lime_samples, top_k=top_k)[0]
    except Exception as e:  # LIME fails on some models: say so, keep the SHAP side
        res, note = None, f"LIME could not run on this model ({type(e).__name__}: {e})."
    nan = np.full(len(features), np.nan)
    lw = res.mean_weights if res is not None else nan
    lsd = res.weights.std(axis=0) if res is not None else nan
    srank, lrank = importance_ranks(exp.values[0]), importance_ranks(lw)
    rows = [(pid, reason, f, _value_text(Xr.iloc[0, j], f in personal), float(exp.values[0, j]),
             int(srank[j]), float(lw[j]), float(lsd[j]), None if res is None else int(lrank[j]))
            for j, f in enumerate(features)]
    summary = {"record": pid, "reason": reason,
               "score": float(explained_scores(subject, part, label)[i]),
               "shap_base": float(exp.base_value), "shap_output": float(exp.output[0]),
               "scale": exp.scale,
               "lime_stability": getattr(res, "stability", np.nan),
               "lime_shap_feature_agreement": getattr(res, "feature_agreement", np.nan),
               "lime_shap_sign_agreement": getattr(res, "sign_agreement", np.nan),
               "lime_shap_spearman": getattr(res, "rank_agreement", np.nan),
               "method": exp.method}
    return rows, summary, note


def find_record(subject: AuditSubject, record: str) -> tuple[str, int]:
    """The part (``members`` or ``nonmembers``) and row position of a pseudonymised id.

    Raises
    ------
    InputError : when no customer has that pseudonym.
    """
    pid = str(record).strip()
    for part in ("nonmembers", "members"):
        ids = subject.record_ids(part)
        if pid in ids:
            return part, ids.index(pid)
    raise InputError(f"No customer has the pseudonymised id {pid!r} in the training rows or the "
                     "holdout rows. Copy an id from the report (they look like p-1a2b3c4d5e6f); "
                     "ids made by another installation's key do not match.")


def example_records(subject: AuditSubject, part: str = "nonmembers", *, n: int = 8,
                    random_state: int = 0) -> list[str]:
    """A few pseudonymised ids of ``part`` drawn at random (seeded), to pick from."""
    if part not in PARTS:
        raise InputError(f"part is {part!r}; it must be one of {list(PARTS)}.")
    idx = sample_rows(len(subject.frame(part)), n, random_state)
    return subject.record_ids(part, rows=idx)


def explain_record(subject: AuditSubject, config: AuditConfig, record: str, *,
                   explainer: str = "tree", n_lime_seeds: int = 10, lime_samples: int = 1000,
                   top_k: int = 5, label=None) -> tuple[Table, Table]:
    """SHAP and LIME for one customer named by pseudonym, as the explainability probe does.

    Parameters
    ----------
    subject : the audited subject.
    config : the audit's configuration (accepted for the drill-down's uniform call; the
        explanation itself is judged on a sample by the probe, not per customer).
    record : the customer's pseudonymised id (members or non-members).
    explainer : the probe's explainer (``report.probes["explainability"].params["explainer"]``);
        ``"permutation"`` forces the model-agnostic path, as the probe did.
    n_lime_seeds, lime_samples, top_k : LIME's runs, perturbation budget and k, as the probe's
        params.
    label : the class explained for a multiclass model (any of its classes; default the
        favourable class, as the report).

    Returns
    -------
    (local_explanations, local_summary) : Tables with the report's columns, one customer.
        ``local_summary`` adds the column ``part`` (training or holdout rows).

    Raises
    ------
    InputError : an unknown pseudonym.
    """
    part, i = find_record(subject, record)
    pid = str(record).strip()
    rows, summary, lime_note = explain_row(subject, part, i, pid=pid, reason="requested",
                                           explainer=explainer, n_lime_seeds=n_lime_seeds,
                                           lime_samples=lime_samples, top_k=top_k, label=label)
    method = summary.pop("method")
    frame = pd.DataFrame([{**summary, "part": part}],
                         columns=[*SUMMARY_COLUMNS, "part"])
    note = (f"Explained on demand with {method}; LIME over {n_lime_seeds} seeds, "
            f"{lime_samples} samples each (the audit's seeds). Personal values are redacted."
            + (f" {lime_note}" if lime_note else ""))
    return (Table.from_frame("local_explanations", pd.DataFrame(rows, columns=LOCAL_COLUMNS),
                             title="Why the model scored this customer so: SHAP and LIME side "
                                   "by side", note=note),
            Table.from_frame("local_summary", frame, title="Local explanation on demand",
                             note=note))
