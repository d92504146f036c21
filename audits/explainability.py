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
   rows, and the bootstrap interval of its rank; the same by sensitive group; for a random sample
   of ``config.n_lime_customers`` (>= 30) explained customers, LIME's stability (mean pairwise
   top-5 Jaccard over seeds; Alvarez-Melis & Jaakkola 2018) and its top-5 feature and sign
   agreement with SHAP (Krishna et al. 2022, "The Disagreement Problem in Explainable Machine
   Learning"), each averaged over the customers with one simultaneous bootstrap band over
   customers; the AUC cost of removing each input, with an interval that includes refitting
   variability (:mod:`audits.minimisation`);
3. findings: a sensitive input, or an input the shared proxy screen flags, whose whole rank
   interval lies within the top 10 drivers (``explainability.sensitive_driver.<feature>``,
   attention; pass when the interval lies wholly outside, inconclusive otherwise; the runner
   escalates attention to fail when a fairness check on its field fails, from
   ``params["sensitive_drivers"]``); LIME's reliability on the sample
   (``explainability.local_stability.lime``, attention when an interval lies wholly below 0.7);
   each minimisation result (``explainability.minimisation.<feature>``). The three example
   customers (highest score, lowest score, score nearest 0.5, or the configured ones) are
   explained by :func:`audits.record_explanation.explain_row`, the drill-down's own function, and
   shown, not judged.

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
from audits.core.results import Finding, Metric, ProbeResult, Severity, Table
from audits.core.seeds import derive_seed, seed_family
from audits.core.subject import AuditSubject
from audits.minimisation import assess_minimisation, proxy_map
from audits.record_explanation import (
    LOCAL_COLUMNS,
    SUMMARY_COLUMNS,
    background,
    explain_row,
    explained_label,
    explained_scores,
    importance_ranks,
    sample_rows,
)

__all__ = ["run_explainability", "sample_rows", "importance_ranks", "rank_severity"]

_REF = "Lundberg & Lee 2017; Lundberg et al. 2020 (TreeSHAP)"
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
    customer, its perturbation budget, k), ``n_lime_customers`` (the random sample LIME is judged
    on), ``minimise`` and ``minimise_seeds`` (measure the cost of removing personal, sensitive and
    proxy inputs, refitting with several seeds for a randomised estimator).
    """
    records = list(config.explain_records) or None
    n_explain, n_agnostic = config.n_explain, config.n_agnostic
    n_lime_seeds, lime_samples, top_k = config.n_lime_seeds, config.lime_samples, config.top_k
    from audits.lime_local import judge_sample, sample_agreement
    from audits.shap_values import explain, tree_cost

    def step(stage, fraction):
        return progress(stage, fraction) if progress else None

    s_rows, s_boot, s_dep, s_lime, s_min = (derive_seed(subject.seed, "explainability", k) for k in
                                            ("rows", "boot", "dependence", "lime", "minimise"))
    features = list(subject.feature_columns)
    personal = set(subject.personal_columns)
    frame, X = subject.frame("nonmembers"), subject.X("nonmembers")
    Xb = background(subject)
    proxies, proxy_note = proxy_map(subject, config, cache=cache)
    notes = [proxy_note] if proxy_note else []
    label = explained_label(subject)
    if subject.task == "multiclass":
        notes.append(f"A {len(subject.classes)}-class model: SHAP and LIME explain the "
                     f"probability (or raw score) of the class {_plain(label)!r}, the favourable "
                     "class; any other class can be explained on demand.")

    # -- 1. global SHAP -----------------------------------------------------------------------
    step("SHAP values of non-members", 0.05)
    cost = tree_cost(subject.model)
    try:
        if cost is None:  # linear or model-agnostic: find out which on two rows
            kind = explain(subject.model, X.iloc[:2], positive_label=label,
                           background=Xb, random_state=s_rows).explainer
            n = n_explain if kind == "linear" else n_agnostic
        else:
            n = int(min(n_explain, max(200, config.shap_tree_budget // cost)))
        idx = sample_rows(len(X), n, s_rows)
        exp = explain(subject.model, X.iloc[idx], positive_label=label,
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
    imp_hi = np.array([c[1] for c in ci], dtype=float)
    drivers, inputs, found = _sensitive_drivers(features, order, rank, rank_reps, imp, subject,
                                                proxies, config, threshold, method, exp.scale, n,
                                                np.nan_to_num(imp_hi))
    findings += found

    # -- 2. local explanations: three examples shown, a random sample judged -------------------
    step("local explanations of the example customers (SHAP and LIME)", 0.45)
    pseud = subject.record_ids("nonmembers") if records else None  # a lookup of every row
    rows, summary = [], []
    for i, reason in _choose_records(subject, records, pseud, label):
        pid = pseud[i] if pseud is not None else subject.record_ids("nonmembers", rows=[i])[0]
        r, smry, lime_note = explain_row(subject, "nonmembers", i, pid=pid, reason=reason,
                                         explainer=exp.explainer, n_lime_seeds=n_lime_seeds,
                                         lime_samples=lime_samples, top_k=top_k, Xb=Xb,
                                         label=label)
        rows += r
        smry.pop("method")
        summary.append(smry)
        if lime_note and lime_note not in notes:
            notes.append(lime_note)
    scale = summary[0]["scale"] if summary else exp.scale
    tables.append(Table.from_frame("local_explanations", pd.DataFrame(
        rows, columns=LOCAL_COLUMNS), title="Why the model scored these customers so: SHAP and "
        "LIME side by side", note=(f"Example customers, shown, not judged. SHAP on the {scale} "
                                   f"scale; LIME weights on the {_lime_scale(subject)}, mean "
                                   "and spread "
                                   f"over {n_lime_seeds} seeds, {lime_samples} samples each. "
                                   "Customers are named by pseudonyms; personal values are "
                                   "redacted.")))
    tables.append(Table.from_frame("local_summary", pd.DataFrame(summary, columns=SUMMARY_COLUMNS),
                                   title="Local explanations of the example customers",
                                   note="Each customer's own LIME stability and agreement with "
                                        "SHAP, shown, not judged: LIME is judged on a random "
                                        "sample of customers (lime_sample)."))
    step(f"LIME on {config.n_lime_customers} random customers (stability, agreement)", 0.5)
    pick = sample_rows(n, config.n_lime_customers, derive_seed(subject.seed, "explainability",
                                                               "lime_sample"))
    stab_threshold = config.threshold("explainability.stability")
    try:
        values = sample_agreement(subject.model, X.iloc[idx[pick]], Xb, exp.values[pick],
                                  positive_label=label,
                                  seeds=seed_family(s_lime, n_lime_seeds),
                                  num_samples=lime_samples, top_k=top_k, n_jobs=config.n_jobs)
    except Exception as e:  # LIME fails on some models: the check is not assessed
        values = None
        findings.append(Finding(
            id="explainability.local_stability.lime", severity=Severity.NOT_ASSESSED,
            area="explainability", threshold=stab_threshold,
            title="LIME's explanations not assessed",
            statement=f"LIME could not run on this model ({type(e).__name__}: {e}), so whether "
                      "its explanations are stable and agree with SHAP is unknown.",
            action="Do not give LIME explanations of this model to customers."))
    if values is not None:
        k = min(top_k, len(features))
        m_lime, f_lime = judge_sample(
            values, stab_threshold, n_boot=config.n_bootstrap, confidence=config.confidence,
            random_state=derive_seed(subject.seed, "explainability", "lime_boot"), k=k,
            method=f"LIME, {n_lime_seeds} seeds x {lime_samples} samples per customer, against "
                   f"{exp.method}")
        metrics += m_lime
        findings.append(f_lime)
        tables.append(Table(
            name="lime_sample", columns=("measure", "mean", "ci_low", "ci_high", "bound",
                                         "severity", "n_customers"),
            rows=tuple((m.name.split(".", 1)[1], m.value, m.ci[0], m.ci[1],
                        stab_threshold.attention, f_lime.severity.value if m is f_lime.metric
                        else None, m.n) for m in m_lime),
            title=f"LIME judged on {len(pick)} holdout customers drawn at random",
            note=f"Means over customers; one simultaneous {config.confidence:.0%} band over the "
                 f"three measures (bootstrap over customers). Attention when an interval lies "
                 f"wholly below {stab_threshold.attention:g}. severity: the decisive measure."))

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
                "lime_customers": config.n_lime_customers,
                "lime_verdict": next((f.severity.value for f in findings if f.id ==
                                      "explainability.local_stability.lime"), None),
                "proxies": proxies, "sensitive_drivers": drivers, "sensitive_inputs": inputs,
                "task": subject.task, "explained_class": _plain(label)})


def _plain(v):
    return v.item() if hasattr(v, "item") else v


def _lime_scale(subject) -> str:
    return "prediction" if subject.task == "regression" else "probability"


def rank_severity(ci, top: float, *, influential: bool = True) -> Severity:
    """The top-driver rule on the rank interval (THRESHOLDS.md): attention when the whole
    interval lies within the top ``top`` (its upper end at most ``top``), pass when it lies
    wholly outside (its lower end above ``top``) or the input has no influence at all,
    inconclusive otherwise. Ranks are whole numbers, so "within the top 10" includes rank 10."""
    lo, hi = ci
    if not influential or lo > top:
        return Severity.PASS
    if hi <= top:
        return Severity.ATTENTION
    return Severity.INCONCLUSIVE


def _sensitive_drivers(features, order, rank, rank_reps, imp, subject, proxies, config,
                       threshold, method, scale, n, imp_hi):
    """Findings for each sensitive or proxy input, judged on its rank interval."""
    drivers, inputs, findings = [], [], []
    total = imp.sum() or 1.0
    top_n = threshold.attention
    for j in order:
        f = features[j]
        fields = ([f] if f in subject.sensitive_fields else []) + proxies.get(f, [])
        if not fields:
            continue
        r = int(rank[j])
        lo, hi = percentile_interval(rank_reps[:, j].astype(float), confidence=config.confidence)
        severity = rank_severity((lo, hi), top_n, influential=imp_hi[j] > 0)
        entry = {"feature": f, "fields": fields, "rank": r, "rank_ci": [lo, hi],
                 "severity": severity.value}
        inputs.append(entry)
        if severity is Severity.ATTENTION:
            drivers.append(entry)
        m = Metric(name=f"rank.{f}", value=r, ci=(lo, hi), n=n, reference=_REF, method=method,
                   label=f"Rank of {f} among the model's {len(features)} drivers (1 = strongest)")
        kind = ("a sensitive field used as a model input" if f in subject.sensitive_fields
                else f"a model input that stands for {', '.join(proxies[f])} (proxy screen)")
        text = (f"{f} is {kind}; it is the model's no. {r} driver out of {len(features)} (mean "
                f"|SHAP| {imp[j]:.4f} on the {scale} scale, {imp[j] / total:.0%} of the total; "
                f"rank interval [{lo:g}, {hi:g}]).")
        fields_text = ", ".join(fields)
        title, tail, action = {
            Severity.ATTENTION: (
                f"{f} is a top-{top_n:g} driver (no. {r})",
                f" The whole rank interval lies within the top {top_n:g}: decisions depend on "
                f"it, so they may differ by {fields_text}.",
                f"Justify using {f} or remove it (explainability.minimisation.{f} gives what "
                f"removal costs); read the fairness findings for {fields_text}: if one fails, "
                "this driver is the likely channel."),
            Severity.PASS: (
                f"{f} is used but is not a top-{top_n:g} driver (no. {r})",
                " Its rank interval lies wholly outside the top drivers (or it has no "
                "influence): its influence on decisions is small.",
                f"Check explainability.minimisation.{f}: an input with little influence can "
                "often be removed."),
            Severity.INCONCLUSIVE: (
                f"{f} may be a top-{top_n:g} driver (no. {r}; rank interval crosses the bound)",
                f" Its rank interval reaches across no. {top_n:g}: these rows cannot tell "
                "whether it is among the top drivers; more explained rows would settle it.",
                f"Treat {f} as a possible top driver: justify it or check "
                f"explainability.minimisation.{f}.")}[severity]
        findings.append(Finding(
            id=f"explainability.sensitive_driver.{f}", area="explainability", metric=m,
            threshold=threshold, severity=severity, title=title, statement=text + tail,
            action=action))
    return drivers, inputs, findings


def _not_assessed(reason: str, notes: list[str]) -> ProbeResult:
    finding = Finding(
        id="explainability.shap.model", severity=Severity.NOT_ASSESSED, area="explainability",
        title="The model could not be explained",
        statement=f"No SHAP explainer could explain this model ({reason}).",
        action="Supply a scikit-learn compatible classifier with predict_proba on a DataFrame.")
    return ProbeResult(probe="explainability", area="explainability", status="not_assessed",
                       findings=(finding,), notes=tuple(notes) + (reason,))


def _why(f: str, subject: AuditSubject, proxies: dict) -> str:
    tags = (["personal"] if f in subject.personal_columns else []) + \
        (["sensitive"] if f in subject.sensitive_fields else []) + \
        ([f"proxy for {', '.join(proxies[f])}"] if f in proxies else [])
    return "; ".join(tags)


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


def _choose_records(subject, records, pseud: list[str], label=None) -> list[tuple[int, str]]:
    if records is None:
        scores = explained_scores(subject, "nonmembers", label)
        word = "prediction" if subject.task == "regression" else "score"
        chosen: list[tuple[int, str]] = []
        for i, reason in ((int(np.argmax(scores)), f"highest {word}"),
                          (int(np.argmin(scores)), f"lowest {word}")):
            chosen.append((i, reason))
        taken = {i for i, _ in chosen}
        # a regression's middle customer is the one nearest the median prediction
        middle, text = (float(np.median(scores)), "prediction nearest the median") \
            if subject.task == "regression" else (0.5, "score nearest 0.5")
        for i in np.argsort(np.abs(scores - middle), kind="stable"):
            if int(i) not in taken:
                chosen.append((int(i), text))
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
