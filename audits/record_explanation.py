"""One customer's explanation on demand: SHAP and LIME side by side, as the explainability probe
explains the customers it picks.

The explainability probe (:mod:`audits.explainability`) explains three customers in the report
(highest score, lowest score, score nearest 0.5). A board member may ask about another one, named
by the pseudonym the report uses. :func:`explain_record` explains that customer with the probe's
own recipe and seeds, so that a customer the report explained gets the report's numbers back:

- SHAP (Lundberg & Lee 2017): :func:`audits.shap_values.explain` on the audited model, with the
  same background rows (a seeded sample of up to 2,000 members, seed
  ``derive_seed(seed, "explainability", "rows")``) and the same explainer family (exact
  TreeSHAP for trees, Lundberg et al. 2020; the permutation explainer when the probe used it).
  The contributions add up to the model's output on the explained scale:
  ``base + sum(shap) = output``.
- LIME (Ribeiro et al. 2016): :func:`audits.lime_local.explain_local` over the probe's seeds
  (``seed_family(derive_seed(seed, "explainability", "lime"), n_seeds)``), with its stability
  over seeds (mean pairwise top-k Jaccard; Alvarez-Melis & Jaakkola 2018) and its rank agreement
  with SHAP (Spearman; Krishna et al. 2022).

The result has the layout of the report's ``local_explanations`` and ``local_summary`` tables,
with the reason "requested". Personal columns used as model inputs are redacted, as in the report;
the customer is named by pseudonym only.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from audits.core.config import AuditConfig
from audits.core.errors import InputError
from audits.core.results import Severity, Table, judge
from audits.core.seeds import derive_seed, seed_family
from audits.core.subject import PARTS, AuditSubject
from audits.explainability import importance_ranks, sample_rows

__all__ = ["REDACTED", "example_records", "explain_record", "find_record"]

REDACTED = "[redacted]"
N_BACKGROUND = 2000  # members behind SHAP's background and LIME's statistics, as the probe


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
    ids = subject.record_ids(part)
    idx = sample_rows(len(ids), n, random_state)
    return [ids[i] for i in idx]


def _value_text(v, personal: bool) -> str:
    if personal:
        return REDACTED
    return f"{float(v):g}" if isinstance(v, (float, np.floating)) else str(v)


def explain_record(subject: AuditSubject, config: AuditConfig, record: str, *,
                   explainer: str = "tree", n_lime_seeds: int = 10, lime_samples: int = 1000,
                   top_k: int = 5) -> tuple[Table, Table]:
    """SHAP and LIME for one customer named by pseudonym, as the explainability probe does.

    Parameters
    ----------
    subject : the audited subject.
    config : the audit's configuration (its ``explainability.stability`` threshold decides
        whether the explanation may be shown to the customer).
    record : the customer's pseudonymised id (members or non-members).
    explainer : the probe's explainer (``report.probes["explainability"].params["explainer"]``);
        ``"permutation"`` forces the model-agnostic path, as the probe did.
    n_lime_seeds, lime_samples, top_k : LIME's runs, perturbation budget and k, as the probe's
        params.

    Returns
    -------
    (local_explanations, local_summary) : Tables with the report's columns, one customer.
        ``local_summary`` adds the column ``part`` (training or holdout rows).

    Raises
    ------
    InputError : an unknown pseudonym.
    """
    from audits.lime_local import explain_local
    from audits.shap_values import explain

    part, i = find_record(subject, record)
    s_rows = derive_seed(subject.seed, "explainability", "rows")
    s_lime = derive_seed(subject.seed, "explainability", "lime")
    features = list(subject.feature_columns)
    personal = set(subject.personal_columns)
    background = sample_rows(len(subject.members), N_BACKGROUND, s_rows)
    Xb = subject.X("members").iloc[background].reset_index(drop=True)
    Xr = subject.X(part).iloc[[i]].reset_index(drop=True)
    exp = explain(subject.model, Xr, positive_label=subject.positive_label, background=Xb,
                  random_state=s_rows, force_agnostic=explainer == "permutation")
    seeds = seed_family(s_lime, n_lime_seeds)
    res = explain_local(subject.model, Xr, Xb.iloc[:N_BACKGROUND], exp.values,
                        positive_label=subject.positive_label, seeds=seeds,
                        num_samples=lime_samples, top_k=top_k)[0]
    lw, lsd = res.mean_weights, res.weights.std(axis=0)
    srank, lrank = importance_ranks(exp.values[0]), importance_ranks(lw)
    pid, reason = str(record).strip(), "requested"
    rows = [(pid, reason, f, _value_text(Xr.iloc[0, j], f in personal), float(exp.values[0, j]),
             int(srank[j]), float(lw[j]), float(lsd[j]), int(lrank[j]))
            for j, f in enumerate(features)]
    threshold = config.threshold("explainability.stability")
    judged = [judge((v, v), threshold) for v in (res.stability, res.rank_agreement)
              if v is not None and not np.isnan(v)]
    show = bool(judged) and max(judged, key=lambda s: s.rank) is Severity.PASS
    score = float(subject.scores(part)[i])
    summary = pd.DataFrame([(pid, reason, score, exp.base_value, float(exp.output[0]), exp.scale,
                             res.stability, res.rank_agreement, res.topk_overlap, show, part)],
                           columns=["record", "reason", "score", "shap_base", "shap_output",
                                    "scale", "lime_stability", "lime_shap_spearman",
                                    "lime_shap_topk_jaccard", "show_to_customer", "part"])
    local = pd.DataFrame(rows, columns=["record", "reason", "feature", "value", "shap",
                                        "shap_rank", "lime_weight", "lime_sd", "lime_rank"])
    note = (f"Explained on demand with {exp.method}; LIME over {n_lime_seeds} seeds, "
            f"{lime_samples} samples each (the audit's seeds). Personal values are redacted.")
    return (Table.from_frame("local_explanations", local, title="Why the model scored this "
                             "customer so: SHAP and LIME side by side", note=note),
            Table.from_frame("local_summary", summary, title="Local explanation on demand",
                             note=note))
