"""Explainability probe: what drives the audited model, for the customer base and for one customer,
and whether personal or sensitive data could be dropped at no cost.

Everything is explained on the model under review, never on a surrogate. Three pure steps:

1. signals: SHAP values (Lundberg & Lee 2017; exact TreeSHAP for trees, Lundberg et al. 2020;
   see :mod:`audits.shap_values` for the explainers, the scale and the folding of encoded columns
   back to original inputs) of a seeded sample of up to 2,000 non-members (fewer for very large
   forests, whose TreeSHAP cost is budgeted; 300 on the model-agnostic path); LIME (Ribeiro et al.
   2016) on chosen customers over 10 seeds (:mod:`audits.lime_local`); retrained clones without
   each personal, sensitive or proxy input (:mod:`audits.minimisation`, GDPR Art. 5(1)(c));
2. scores: mean absolute SHAP per input with a percentile bootstrap interval over the explained
   rows (and the bootstrap interval of its rank); the same by sensitive group; LIME's stability
   (mean pairwise top-5 Jaccard over seeds; Alvarez-Melis & Jaakkola 2018 on LIME instability)
   and its rank agreement with SHAP (Spearman's correlation of absolute attributions over all
   inputs, as in Krishna et al. 2022, "The Disagreement Problem in Explainable Machine Learning");
   the AUC cost of removing each input, with a paired bootstrap interval;
3. findings: a sensitive input, or an input the shared proxy screen flags, among the top 10
   drivers (``explainability.sensitive_driver.<feature>``, attention; the runner escalates it to
   fail when a fairness check on its field fails, from ``params["sensitive_drivers"]``); an
   unstable or disagreeing local explanation (``explainability.local_stability.<pseudonym>``,
   attention: not to be shown to a customer); each minimisation result
   (``explainability.minimisation.<feature>``).

Customers are named only by their keyed pseudonyms; personal columns' values never appear in the
tables (redacted), and personal columns get no dependence data.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from audits.core.bootstrap import bootstrap_weights, percentile_interval
from audits.core.cache import RunCache
from audits.core.config import AuditConfig
from audits.core.errors import InputError
from audits.core.groups import group_codes
from audits.core.results import Finding, Metric, ProbeResult, Severity, Table, judge
from audits.core.seeds import derive_seed, seed_family
from audits.core.subject import AuditSubject
from audits.minimisation import assess_minimisation, proxy_map

__all__ = ["run_explainability", "sample_rows", "importance_ranks"]

_REF = "Lundberg & Lee 2017; Lundberg et al. 2020 (TreeSHAP)"
_LIME_REF = ("Ribeiro et al. 2016 (LIME); Alvarez-Melis & Jaakkola 2018 (instability); "
             "Krishna et al. 2022 (agreement)")
N_TOP_DRIVERS, N_DEPENDENCE, N_DEPENDENCE_POINTS = 10, 5, 200


def run_explainability(subject: AuditSubject, config: AuditConfig, *, progress=None,
                       cache: RunCache | None = None) -> ProbeResult:
    """Run the explainability probe (see the module docstring for the method).

    Parameters
    ----------
    subject, config : the audit subject and configuration.
    progress : ``progress(stage, fraction)`` callback.
    cache : the run's cache (the proxy screen is shared with the fairness probe).

    The probe's choices are in ``config``: ``explain_records`` (customers explained locally,
    by pseudonym; empty picks three: the highest score, the lowest score and the score nearest
    0.5), ``n_explain`` and ``n_agnostic`` (non-members explained for the global view on the
    TreeSHAP and linear paths, and on the model-agnostic path), ``shap_tree_budget`` (caps the
    rows of very large forests), ``n_lime_seeds``, ``lime_samples``, ``top_k`` (LIME runs per
    customer, its perturbation budget, k) and ``minimise`` (measure the cost of removing
    personal, sensitive and proxy inputs).
    """
    records = list(config.explain_records) or None
    n_explain, n_agnostic = config.n_explain, config.n_agnostic
    n_lime_seeds, lime_samples, top_k = config.n_lime_seeds, config.lime_samples, config.top_k
    from audits.lime_local import explain_local
    from audits.shap_values import explain, tree_cost

    def step(stage, fraction):
        return progress(stage, fraction) if progress else None

    s_rows, s_boot, s_dep, s_lime, s_min = (derive_seed(subject.seed, "explainability", k) for k in
                                            ("rows", "boot", "dependence", "lime", "minimise"))
    features = list(subject.feature_columns)
    personal = set(subject.personal_columns)
    frame, X = subject.frame("nonmembers"), subject.X("nonmembers")
    background = sample_rows(len(subject.members), 2000, s_rows)
    Xb = subject.X("members").iloc[background].reset_index(drop=True)
    proxies, proxy_note = proxy_map(subject, config, cache=cache)
    notes = [proxy_note] if proxy_note else []

    # -- 1. global SHAP -----------------------------------------------------------------------
    step("SHAP values of non-members", 0.05)
    cost = tree_cost(subject.model)
    try:
        if cost is None:  # linear or model-agnostic: find out which on two rows
            kind = explain(subject.model, X.iloc[:2], positive_label=subject.positive_label,
                           background=Xb, random_state=s_rows).explainer
            n = n_explain if kind == "linear" else n_agnostic
        else:
            n = int(min(n_explain, max(200, config.shap_tree_budget // cost)))
        idx = sample_rows(len(X), n, s_rows)
        exp = explain(subject.model, X.iloc[idx], positive_label=subject.positive_label,
                      background=Xb, random_state=s_rows, n_jobs=config.n_jobs)
    except Exception as e:  # a model no explainer can handle: say so, never crash the audit
        return _not_assessed(f"{type(e).__name__}: {e}", notes)
    n = len(idx)
    notes.append(f"Explained {n} non-members (seeded sample) with {exp.method}; additivity "
                 f"error (max |base + sum - output|) {exp.additivity_error:.2e}.")
    absv = np.abs(exp.values)
    imp = absv.mean(axis=0)
    reps = np.vstack([w @ absv / n for w in bootstrap_weights(
        n, config.n_bootstrap, np.random.default_rng(s_boot))])
    rank_reps = 1 + (reps[:, None, :] > reps[:, :, None]).sum(axis=2)
    order = np.argsort(-imp, kind="stable")
    rank = np.empty(len(features), dtype=int)
    rank[order] = np.arange(1, len(features) + 1)
    method = (f"{exp.method}; mean |SHAP| over {n} non-member rows (seeded sample); percentile "
              f"bootstrap over rows, {config.n_bootstrap} replicates")
    metrics, findings = [], []
    ci = [percentile_interval(reps[:, j], confidence=config.confidence)
          for j in range(len(features))]
    for j in order:
        metrics.append(Metric(name=f"mean_abs_shap.{features[j]}", value=imp[j], ci=ci[j],
                              method=method, reference=_REF, n=n,
                              label=f"Mean absolute SHAP value of {features[j]} ({exp.scale})"))
    metrics.append(Metric(name="shap.additivity_error", value=exp.additivity_error, n=n,
                          method="max over explained rows of |base value + sum of contributions"
                                 " - model output|, after folding", reference=_REF,
                          label="SHAP additivity check (0 = exact)"))
    why = {f: _why(f, subject, proxies) for f in features}
    total = imp.sum() or 1.0
    importance = pd.DataFrame({
        "rank": rank[order], "feature": [features[j] for j in order], "mean_abs_shap": imp[order],
        "ci_low": [ci[j][0] for j in order], "ci_high": [ci[j][1] for j in order],
        "share": imp[order] / total, "flag": [why[features[j]] for j in order]})
    tables = [Table.from_frame("importance", importance, title="What drives the model: mean "
                               "absolute SHAP value per input", note=method)]
    tables.append(_dependence(exp, X.iloc[idx], order, personal, s_dep))

    # -- per group and sensitive drivers ----------------------------------------------------------
    step("importance by sensitive group", 0.35)
    tables.append(_by_group(absv, frame.iloc[idx], features, subject, config))
    threshold = config.threshold("explainability.sensitive_driver_rank")
    drivers, inputs, found = _sensitive_drivers(features, order, rank, rank_reps, imp, subject,
                                                proxies, config, threshold, method, exp.scale, n)
    findings += found

    # -- 2. local explanations --------------------------------------------------------------------
    step("local explanations (SHAP and LIME)", 0.45)
    pseud = subject.record_ids("nonmembers")
    chosen = _choose_records(subject, records, pseud)
    Xr = X.iloc[[i for i, _ in chosen]].reset_index(drop=True)
    local = explain(subject.model, Xr, positive_label=subject.positive_label, background=Xb,
                    random_state=s_rows, force_agnostic=exp.explainer == "permutation")
    lime_train = Xb.iloc[:min(len(Xb), 2000)]
    seeds = seed_family(s_lime, n_lime_seeds)
    try:
        lime = explain_local(subject.model, Xr, lime_train, local.values,
                             positive_label=subject.positive_label, seeds=seeds,
                             num_samples=lime_samples, top_k=top_k)
    except Exception as e:  # LIME fails on some models: say so, keep the SHAP side
        lime = [None] * len(chosen)
        notes.append(f"LIME could not run on this model ({type(e).__name__}: {e}).")
    stab_threshold = config.threshold("explainability.stability")
    rows, summary = [], []
    scores = subject.scores("nonmembers")
    for r, ((i, reason), res) in enumerate(zip(chosen, lime)):
        pid = pseud[i]
        lw = res.mean_weights if res else np.full(len(features), np.nan)
        lsd = res.weights.std(axis=0) if res else np.full(len(features), np.nan)
        lrank = importance_ranks(lw)
        srank = importance_ranks(local.values[r])
        for j, f in enumerate(features):
            v = Xr.iloc[r, j]
            value = "[redacted]" if f in personal else (
                f"{float(v):g}" if isinstance(v, (float, np.floating)) else str(v))
            rows.append((pid, reason, f, value, local.values[r, j], int(srank[j]), lw[j],
                         lsd[j], None if res is None else int(lrank[j])))
        m_s, m_a, m_j, sev = _local_metrics(pid, res, stab_threshold, n_lime_seeds, top_k,
                                            lime_samples)
        metrics += [m for m in (m_s, m_a, m_j) if m is not None]
        summary.append((pid, reason, float(scores[i]), local.base_value, local.output[r],
                        local.scale, getattr(res, "stability", None),
                        getattr(res, "rank_agreement", None), getattr(res, "topk_overlap", None),
                        sev is Severity.PASS))
        findings.append(_local_finding(pid, reason, res, m_s, m_a, sev, stab_threshold))
    tables.append(Table.from_frame("local_explanations", pd.DataFrame(rows, columns=[
        "record", "reason", "feature", "value", "shap", "shap_rank", "lime_weight", "lime_sd",
        "lime_rank"]), title="Why the model scored these customers so: SHAP and LIME side by "
        "side", note=(f"SHAP on the {local.scale} scale; LIME weights on the probability, mean "
                      f"and spread over {n_lime_seeds} seeds, {lime_samples} samples each. "
                      "Customers are named by pseudonyms; personal values are redacted.")))
    tables.append(Table.from_frame("local_summary", pd.DataFrame(summary, columns=[
        "record", "reason", "score", "shap_base", "shap_output", "scale", "lime_stability",
        "lime_shap_spearman", "lime_shap_topk_jaccard", "show_to_customer"]),
        title="Local explanations: can they be shown to the customer?"))

    # -- 3. data minimisation ----------------------------------------------------------------------
    if config.minimise:
        step("data minimisation (retraining without each input)", 0.6)
        m_metrics, m_table, m_findings, m_notes = assess_minimisation(
            subject, config, proxies=proxies, random_state=s_min)
        metrics += m_metrics
        findings += m_findings
        notes += m_notes
        if m_table is not None:
            tables.append(m_table)
    step("done", 1.0)
    return ProbeResult(
        probe="explainability", area="explainability", metrics=tuple(metrics),
        tables=tuple(tables), findings=tuple(findings), notes=tuple(notes),
        params={"explainer": exp.explainer, "scale": exp.scale, "method": exp.method,
                "n_explained": n, "n_bootstrap": config.n_bootstrap,
                "confidence": config.confidence, "lime_seeds": n_lime_seeds,
                "lime_samples": lime_samples, "top_k": top_k, "seed": subject.seed,
                "proxies": proxies, "sensitive_drivers": drivers, "sensitive_inputs": inputs})


def _sensitive_drivers(features, order, rank, rank_reps, imp, subject, proxies, config,
                       threshold, method, scale, n):
    """Findings for each sensitive or proxy input: attention in the top 10, else pass."""
    drivers, inputs, findings = [], [], []
    total = imp.sum() or 1.0
    for j in order:
        f = features[j]
        fields = ([f] if f in subject.sensitive_fields else []) + proxies.get(f, [])
        if not fields:
            continue
        r = int(rank[j])
        top = r <= threshold.attention and imp[j] > 0  # an input with no influence drives nothing
        lo, hi = percentile_interval(rank_reps[:, j].astype(float), confidence=config.confidence)
        entry = {"feature": f, "fields": fields, "rank": r}
        inputs.append(entry)
        if top:
            drivers.append(entry)
        m = Metric(name=f"rank.{f}", value=r, ci=(lo, hi), n=n, reference=_REF, method=method,
                   label=f"Rank of {f} among the model's {len(features)} drivers (1 = strongest)")
        kind = ("a sensitive field used as a model input" if f in subject.sensitive_fields
                else f"a model input that stands for {', '.join(proxies[f])} (proxy screen)")
        text = (f"{f} is {kind}; it is the model's no. {r} driver out of {len(features)} (mean "
                f"|SHAP| {imp[j]:.4f} on the {scale} scale, {imp[j] / total:.0%} of the total; "
                f"rank interval [{lo:g}, {hi:g}]).")
        fields_text = ", ".join(fields)
        findings.append(Finding(
            id=f"explainability.sensitive_driver.{f}", area="explainability", metric=m,
            threshold=threshold, severity=Severity.ATTENTION if top else Severity.PASS,
            title=(f"{f} is the model's no. {r} driver" if top else
                   f"{f} is used but is not a top-{threshold.attention:g} driver (no. {r})"),
            statement=text + (f" Decisions depend on it, so they may differ by {fields_text}."
                              if top else " Its influence on decisions is small."),
            action=(f"Justify using {f} or remove it (explainability.minimisation.{f} gives what "
                    f"removal costs); read the fairness findings for {fields_text}: if one fails, "
                    "this driver is the likely channel." if top else
                    f"Check explainability.minimisation.{f}: an input with little influence can "
                    "often be removed.")))
    return drivers, inputs, findings


def _not_assessed(reason: str, notes: list[str]) -> ProbeResult:
    finding = Finding(
        id="explainability.shap.model", severity=Severity.NOT_ASSESSED, area="explainability",
        title="The model could not be explained",
        statement=f"No SHAP explainer could explain this model ({reason}).",
        action="Supply a scikit-learn compatible classifier with predict_proba on a DataFrame.")
    return ProbeResult(probe="explainability", area="explainability", status="not_assessed",
                       findings=(finding,), notes=tuple(notes) + (reason,))


def sample_rows(n_total: int, n: int, seed: int) -> np.ndarray:
    """``n`` of ``n_total`` row indices drawn without replacement by ``seed``, sorted (all rows
    when there are no more than ``n``)."""
    if n_total <= n:
        return np.arange(n_total)
    return np.sort(np.random.default_rng(seed).choice(n_total, n, replace=False))


def _why(f: str, subject: AuditSubject, proxies: dict) -> str:
    tags = (["personal"] if f in subject.personal_columns else []) + \
        (["sensitive"] if f in subject.sensitive_fields else []) + \
        ([f"proxy for {', '.join(proxies[f])}"] if f in proxies else [])
    return "; ".join(tags)


def importance_ranks(v: np.ndarray) -> np.ndarray:
    """Rank 1 = the largest absolute value; ties keep their order, NaN counts as 0."""
    order = np.argsort(-np.abs(np.nan_to_num(v)), kind="stable")
    out = np.empty(len(v), dtype=int)
    out[order] = np.arange(1, len(v) + 1)
    return out


def _dependence(exp, Xs: pd.DataFrame, order, personal: set, seed: int) -> Table:
    Xs = Xs.reset_index(drop=True)
    pick = sample_rows(len(Xs), N_DEPENDENCE_POINTS, seed)
    top = [j for j in order if exp.features[j] not in personal][:N_DEPENDENCE]
    rows = []
    for j in top:
        col = Xs.iloc[pick, j]
        categorical = not pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col)
        for v, s in zip(col.tolist(), exp.values[pick, j]):
            rows.append((exp.features[j], str(v) if categorical else float(v), float(s),
                         categorical))
    return Table(name="dependence", columns=("feature", "value", "shap", "categorical"),
                 rows=tuple(rows), title="How each top driver's value moves the score",
                 note=(f"Up to {N_DEPENDENCE_POINTS} explained non-members per feature, SHAP on "
                       f"the {exp.scale} scale; personal columns are never shown."))


def _by_group(absv: np.ndarray, frame: pd.DataFrame, features, subject, config) -> Table:
    rows = []
    for field in subject.sensitive_fields:
        if field not in frame.columns:
            continue
        codes, levels = group_codes(frame[field], age_bands=config.age_bands)
        for gi, g in enumerate(levels):
            mask = codes == gi
            k = int(mask.sum())
            shown = k >= config.suppress_below
            means = absv[mask].mean(axis=0) if shown else [None] * len(features)
            for f, v in zip(features, means):
                rows.append((field, g, k if shown else None, k < config.min_group_size, f, v))
    return Table(name="importance_by_group", columns=(
        "field", "group", "n", "too_small", "feature", "mean_abs_shap"), rows=tuple(rows),
        title="Mean absolute SHAP value by sensitive group",
        note=(f"Numeric fields banded; groups under {config.min_group_size} rows are flagged too "
              f"small to judge; under {config.suppress_below} rows, counts and values are "
              "suppressed."))


def _choose_records(subject, records, pseud: list[str]) -> list[tuple[int, str]]:
    if records is None:
        scores = subject.scores("nonmembers")
        chosen: list[tuple[int, str]] = []
        for i, reason in ((int(np.argmax(scores)), "highest score"),
                          (int(np.argmin(scores)), "lowest score")):
            chosen.append((i, reason))
        taken = {i for i, _ in chosen}
        for i in np.argsort(np.abs(scores - 0.5), kind="stable"):
            if int(i) not in taken:
                chosen.append((int(i), "score nearest 0.5"))
                break
        return chosen
    lookup = {p: i for i, p in enumerate(pseud)}
    out = []
    for r in records:
        if isinstance(r, (int, np.integer)) and 0 <= int(r) < len(pseud):
            out.append((int(r), "requested"))
        elif str(r) in lookup:
            out.append((lookup[str(r)], "requested"))
        else:
            raise InputError(f"The record {r!r} is neither a pseudonymised id of a non-member "
                             f"(subject.record_ids('nonmembers')) nor a row position below "
                             f"{len(pseud)}. Pass one of those.")
    return out


def _local_metrics(pid, res, threshold, n_seeds, k, samples):
    if res is None:
        return None, None, None, Severity.NOT_ASSESSED
    base = f"LIME, {n_seeds} seeds x {samples} samples, original feature space"
    m_s = Metric(name=f"lime_stability.{pid}", value=res.stability, n=n_seeds, reference=_LIME_REF,
                 label="LIME stability: mean pairwise Jaccard overlap of the top-5 inputs",
                 method=f"{base}; top-{res.top_k} by |weight|, all pairs of seeds; no interval")
    m_a = Metric(name=f"lime_shap_agreement.{pid}", value=res.rank_agreement, n=len(res.features),
                 reference=_LIME_REF, label="Rank agreement of LIME with SHAP (Spearman)",
                 method=f"{base}; Spearman correlation of mean |LIME weight| and |SHAP| over all "
                        "inputs; no interval")
    m_j = Metric(name=f"lime_shap_topk.{pid}", value=res.topk_overlap, n=n_seeds,
                 reference=_LIME_REF, label="Top-5 overlap of LIME with SHAP (Jaccard, unjudged)",
                 method=f"{base}; mean over seeds of Jaccard(LIME top-{res.top_k}, SHAP top-"
                        f"{res.top_k})")
    sev = [judge((m.value, m.value), threshold) for m in (m_s, m_a) if m.value is not None]
    sev = max(sev, key=lambda s: s.rank) if sev else Severity.NOT_ASSESSED
    return m_s, m_a, m_j, sev


def _local_finding(pid, reason, res, m_s, m_a, sev, threshold) -> Finding:
    fid = f"explainability.local_stability.{pid}"
    if res is None:
        return Finding(id=fid, severity=Severity.NOT_ASSESSED, area="explainability",
                       title=f"Local explanation of {pid} not assessed", threshold=threshold,
                       statement="LIME could not run on this model, so the stability of its "
                                 "explanation of this customer is unknown.",
                       action="Do not show LIME explanations of this model to customers.")
    worst = min((m for m in (m_s, m_a) if m.value is not None), key=lambda m: m.value,
                default=m_s)
    agree = "n/a (constant attributions)" if m_a.value is None else f"{m_a.value:.2f}"
    text = (f"For customer {pid} ({reason}), LIME's top-{res.top_k} inputs overlap "
            f"{res.stability:.2f} on average across {len(res.seeds)} seeds (Jaccard), and its "
            f"ranking agrees with SHAP's at Spearman {agree}; the bound is "
            f"{threshold.attention:g}, judged on the value (no interval).")
    if sev is Severity.ATTENTION:
        return Finding(id=fid, severity=sev, area="explainability", metric=worst,
                       threshold=threshold, title=f"Unstable explanation of customer {pid}",
                       statement=text + " This explanation is not reliable.",
                       action="Do not show this explanation to the customer as the reason for "
                              "the decision; use the SHAP contributions, or review by hand.")
    return Finding(id=fid, severity=sev, area="explainability", metric=worst,
                   threshold=threshold, title=f"Stable explanation of customer {pid}",
                   statement=text, action="None needed.")
