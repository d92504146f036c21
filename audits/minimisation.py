"""Data minimisation: what removing a personal, sensitive or proxy input would cost.

GDPR Art. 5(1)(c) requires personal data to be "adequate, relevant and limited to what is
necessary". For every model input that is a personal column, a sensitive field, or flagged by the
shared proxy screen, the cost of removing it is measured rather than guessed:

1. retrain a clone of the model (``sklearn.base.clone``) on all the members, with and without the
   input. Without: the column is dropped from the data and from the ColumnTransformer's column
   lists (a Pipeline), or from the data (an estimator fitted on a DataFrame); where that clone
   cannot be fitted, the column is replaced by a constant (its members' median, or mode for
   non-numeric columns) in training and scoring data, which removes its information. The method
   used is reported. The baseline is the same recipe retrained WITH the input, with the same
   seed (every unset ``random_state`` is set to the audit's seed), so retraining noise is not
   counted as a cost;
2. score both on the non-members and take the change in ROC AUC, without minus with;
3. a paired percentile bootstrap over non-members (the same resampled rows for both models)
   gives its interval.

An input whose removal costs nothing measurable (the interval includes 0, or the cost is below
0.005 AUC) is recommended for removal (attention); otherwise it passes, with its cost stated. A
model that cannot be cloned or retrained gets a not_assessed finding. The retrains run through
``parallel_map``.
"""

from __future__ import annotations

import warnings
from typing import Sequence

import numpy as np
import pandas as pd

from audits.core.bootstrap import bootstrap_weights, percentile_interval, weighted_auc
from audits.core.parallel import parallel_map
from audits.core.results import Finding, Metric, Severity, Table

__all__ = ["proxy_map", "candidates", "selected_columns",
           "drop_column_clone",
           "retrain_scores", "assess_minimisation"]

_REF = "GDPR Art. 5(1)(c); retrain-without-feature importance (leave-one-covariate-out)"


def proxy_map(subject, config, *, cache=None) -> tuple[dict[str, list[str]], str | None]:
    """Model inputs flagged by the shared proxy screen -> the sensitive fields they stand for.

    Returns ``(mapping, note)``; ``note`` says why the screen could not be used, else None.
    """
    try:
        from audits.proxies import proxy_screen
    except ImportError:
        return {}, ("The shared proxy screen (audits.proxies) is not available in this "
                    "installation: no input was treated as a proxy.")
    try:
        frame = proxy_screen(subject, config, cache=cache)
    except Exception as e:  # the screen's own failure must not sink this probe
        return {}, f"The proxy screen failed ({type(e).__name__}: {e}); no proxies were used."
    flag = next((c for c in ("is_proxy", "flagged", "proxy") if c in frame.columns), None)
    if flag is not None:
        flagged = frame[flag].astype(bool).to_numpy()
    elif "severity" in frame.columns:  # the fairness.proxy_association severity, judged on V
        flagged = frame["severity"].isin(["attention", "fail"]).to_numpy()
    else:
        flagged = None
    if flagged is None or not {"feature", "field"} <= set(frame.columns):
        return {}, (f"The proxy screen's table has columns {list(frame.columns)}; expected "
                    "'feature', 'field' and a flag or severity. No proxies were used.")
    out: dict[str, list[str]] = {}
    for feature, field in frame.loc[flagged, ["feature", "field"]].itertuples(index=False,
                                                                              name=None):
        if str(feature) != str(field):
            out.setdefault(str(feature), []).append(str(field))
    return out, None


def candidates(subject, proxies: dict[str, list[str]]) -> dict[str, str]:
    """Model inputs to minimise -> why (personal column / sensitive field / proxy for ...)."""
    out = {}
    for c in subject.feature_columns:
        why = []
        if c in subject.personal_columns:
            why.append("personal column")
        if c in subject.sensitive_fields:
            why.append("sensitive field")
        if c in proxies:
            why.append("proxy for " + ", ".join(proxies[c]))
        if why:
            out[c] = "; ".join(why)
    return out


def _seeded_clone(model, seed: int, single_thread: bool):
    from sklearn.base import clone

    est = clone(model)
    params = est.get_params(deep=True)
    over = {k: seed for k, v in params.items()
            if k.endswith("random_state") and not isinstance(v, (int, np.integer))}
    if single_thread:
        over.update({k: 1 for k, v in params.items() if k.endswith("n_jobs") and v != 1})
    return est.set_params(**over) if over else est


def selected_columns(cols, names: list[str]) -> list[str]:
    """Names of the columns a ColumnTransformer entry selects (names, positions, a mask or a
    slice), given the names of its input columns."""
    if isinstance(cols, slice):
        return names[cols]
    if isinstance(cols, (str, int, np.integer)):
        cols = [cols]
    cols = list(cols)
    if cols and all(isinstance(c, (bool, np.bool_)) for c in cols):
        return [n for n, keep in zip(names, cols) if keep]
    return [names[c] if isinstance(c, (int, np.integer)) else str(c) for c in cols]


def drop_column_clone(model, feature: str, *, seed: int, single_thread: bool = False):
    """An unfitted clone of ``model`` that no longer reads ``feature``.

    For a Pipeline whose first step is a ColumnTransformer, the column is removed from every
    transformer's column list (names, positions, masks or slices are rewritten as names).
    A bare estimator is returned as a clone: dropping the column from the data suffices.
    """
    est = _seeded_clone(model, seed, single_thread)
    if type(est).__name__ != "Pipeline":
        return est
    name, ct = est.steps[0]
    if type(ct).__name__ != "ColumnTransformer":
        fitted = model.steps[0][1]
        if getattr(fitted, "feature_names_in_", None) is None:
            raise ValueError("The pipeline does not start with a ColumnTransformer.")
        return est  # a step fitted on the DataFrame's columns: dropping from the data suffices
    fitted_names = [str(c) for c in getattr(model.steps[0][1], "feature_names_in_", [])]
    new = []
    for tname, trans, cols in ct.get_params(deep=False)["transformers"]:
        if not callable(cols):
            cols = selected_columns(cols, fitted_names)
            cols = [c for c in cols if c != feature]
        new.append((tname, trans, cols))
    return est.set_params(**{f"{name}__transformers": new})


def retrain_scores(item) -> dict:
    """Fit one clone and score the non-members (a ``parallel_map`` worker; pure).

    ``item`` is ``(model, feature or None, X_members, y_members, X_nonmembers, positive_label,
    seed, single_thread)``; returns ``{"feature", "method", "scores"}`` or ``{"error"}``.
    """
    from threadpoolctl import threadpool_limits

    model, feature, Xm, ym, Xn, positive, seed, single = item
    attempts = [("baseline, retrained with every input", None)] if feature is None else [
        ("column dropped from the data and the model's column lists", "drop"),
        ("column replaced by a constant (median, or mode for text) in training and scoring",
         "constant")]
    errors = []
    for method, how in attempts:
        try:
            with warnings.catch_warnings(), threadpool_limits(limits=1 if single else None):
                warnings.simplefilter("ignore")
                if how == "drop":
                    est = drop_column_clone(model, feature, seed=seed, single_thread=single)
                    A, B = Xm.drop(columns=[feature]), Xn.drop(columns=[feature])
                else:
                    est = _seeded_clone(model, seed, single)
                    A, B = Xm.copy(), Xn.copy()
                    if how == "constant":
                        s = Xm[feature]
                        value = s.median() if pd.api.types.is_numeric_dtype(s) and not \
                            pd.api.types.is_bool_dtype(s) else s.mode(dropna=True).iloc[0]
                        A[feature] = value
                        B[feature] = value
                est.fit(A, ym)
                pos = list(est.classes_).index(positive)
                scores = np.asarray(est.predict_proba(B), dtype=float)[:, pos]
            return {"feature": feature, "method": method, "scores": scores}
        except Exception as e:  # any estimator may refuse: try the next method, then report
            errors.append(f"{type(e).__name__}: {e}")
    return {"feature": feature, "error": "; ".join(errors)}


def assess_minimisation(subject, config, *, proxies: dict[str, list[str]],
                        features: Sequence[str] | None = None, random_state: int = 0):
    """Measure the cost of removing each personal, sensitive or proxy input.

    Returns ``(metrics, table, findings, notes)``; ``features`` overrides the candidates.
    """
    reasons = candidates(subject, proxies)
    if features is not None:
        reasons = {f: reasons.get(f, "requested") for f in features}
    if not reasons:
        return [], None, [], ["No model input is a personal column, a sensitive field or a "
                              "flagged proxy: nothing to minimise."]
    Xm, Xn = subject.X("members"), subject.X("nonmembers")
    ym = subject.members[subject.target]
    single = config.n_jobs != 1
    items = [(subject.model, f, Xm, ym, Xn, subject.positive_label, int(random_state), single)
             for f in [None, *reasons]]
    runs = parallel_map(retrain_scores, items, n_jobs=config.n_jobs)
    threshold = config.threshold("explainability.minimisation_cost")
    base = runs[0]
    if "error" in base:
        findings = [Finding(
            id=f"explainability.minimisation.{f}", severity=Severity.NOT_ASSESSED,
            area="explainability", title=f"Data minimisation: {f}", threshold=threshold,
            statement=(f"The model could not be retrained ({base['error']}), so the cost of "
                       f"removing {f} ({why}) was not measured."),
            action="Supply a retrainable model (a scikit-learn estimator or Pipeline) or measure "
                   "the cost of removing it with your own training recipe.")
            for f, why in reasons.items()]
        return [], None, findings, [f"Minimisation: retraining failed: {base['error']}"]
    y = subject.y("nonmembers")
    rng = np.random.default_rng(random_state)
    kept = [r for r in runs[1:] if "error" not in r]
    n = len(y)
    ones = np.ones((1, n))
    auc0 = float(weighted_auc(y, base["scores"], ones)[0])
    diffs = {r["feature"]: [] for r in kept}
    for w in bootstrap_weights(n, config.n_bootstrap, rng):
        a0 = weighted_auc(y, base["scores"], w)
        for r in kept:
            diffs[r["feature"]].append(weighted_auc(y, r["scores"], w) - a0)
    metrics, findings, rows = [], [], []
    for r in runs[1:]:
        f, why = r["feature"], reasons[r["feature"]]
        if "error" in r:
            findings.append(Finding(
                id=f"explainability.minimisation.{f}", severity=Severity.NOT_ASSESSED,
                area="explainability", title=f"Data minimisation: {f}", threshold=threshold,
                statement=f"The model could not be retrained without {f} ({r['error']}).",
                action="Measure the cost of removing it with your own training recipe."))
            rows.append((f, why, "retraining failed", auc0, None, None, None, None, "unknown"))
            continue
        a1 = float(weighted_auc(y, r["scores"], ones)[0])
        lo, hi = percentile_interval(np.concatenate(diffs[f]), confidence=config.confidence)
        change, cost = a1 - auc0, auc0 - a1
        removable = hi >= 0 or cost < threshold.attention
        m = Metric(name=f"minimisation.{f}", value=change, ci=(lo, hi), n=n,
                   label=f"Change in holdout AUC when {f} is removed (retrained without minus "
                         f"retrained with)",
                   method=(f"{r['method']}; both fits on all {len(Xm)} members with seed "
                           f"{random_state}; paired percentile bootstrap over the non-members, "
                           f"{config.n_bootstrap} replicates"), reference=_REF)
        metrics.append(m)
        rows.append((f, why, r["method"], auc0, a1, change, lo, hi,
                     "remove" if removable else "keep (costs accuracy)"))
        ci_text = f"[{-hi:+.4f}, {-lo:+.4f}]"
        statement = (f"Removing {f} ({why}) and retraining changes the holdout AUC from "
                     f"{auc0:.4f} to {a1:.4f}: it costs {cost:+.4f} AUC "
                     f"({config.confidence:.0%} interval of the cost {ci_text}).")
        if removable:
            statement += (" That is no measurable loss (the interval includes 0 or the cost is "
                          f"below {threshold.attention:g} AUC), so the input is not necessary.")
            action = (f"Remove {f} from the model (GDPR Art. 5(1)(c) data minimisation), or "
                      "record why it is necessary.")
        else:
            action = (f"Keep {f} only with a documented justification that {cost:.4f} AUC is "
                      "worth processing it; consider a less sensitive substitute.")
        findings.append(Finding(
            id=f"explainability.minimisation.{f}",
            severity=Severity.ATTENTION if removable else Severity.PASS, area="explainability",
            title=f"Data minimisation: removing {f} costs {cost:.4f} AUC", statement=statement,
            action=action, metric=m, threshold=threshold))
    table = Table.from_frame("minimisation", pd.DataFrame(rows, columns=[
        "feature", "why", "method", "auc_with", "auc_without", "change", "ci_low", "ci_high",
        "recommendation"]), title="Cost of removing personal, sensitive and proxy inputs",
        note=("Both models retrained on all members with the same seed; change = AUC without "
              "minus AUC with on the non-members, paired bootstrap interval."))
    return metrics, table, findings, []
