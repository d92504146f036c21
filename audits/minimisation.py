"""Data minimisation: what removing a personal, sensitive or proxy input would cost.

GDPR Art. 5(1)(c) requires personal data to be "adequate, relevant and limited to what is
necessary". For every model input that is a personal column, a sensitive field, or flagged by the
shared proxy screen, the cost of removing it is measured rather than guessed:

1. retrain a clone of the model (``sklearn.base.clone``) on the members, with and without the
   input (up to ``config.reference_max_rows`` members, a seeded sample past it, as the reference
   models are trained, and scored on as many non-members: the cost stays flat with the rows).
   Without: the column is dropped from the data and from the ColumnTransformer's column lists
   (a Pipeline), or from the data (an estimator fitted on a DataFrame); where that clone
   cannot be fitted, the column is replaced by a constant (its members' median, or mode for
   non-numeric columns) in training and scoring data, which removes its information. The method
   used is reported. The baseline is the same recipe retrained WITH the input, every
   ``random_state`` set to the same seed, so the comparison is like for like;
2. refitting variability: a randomised estimator (a forest, subsampled boosting) gives another
   model, and another AUC, with another seed, and a cost smaller than that noise is no cost.
   Each of ``config.minimise_seeds`` (3) seeds refits both models (a family of named seeds);
   when the first two baseline refits score every row identically the recipe is deterministic
   and one seed is used. The cost is the mean AUC with minus the mean AUC without, over seeds;
3. its interval: a percentile bootstrap that resamples the non-members (the same rows for every
   model, so the comparison stays paired) and, independently for the two arms, the seeds
   (a two-level bootstrap: rows, then refits; Davison & Hinkley 1997, Sec. 3.8), so it includes
   the refitting variability.

Other tasks (issue 14): the measure is the task's own, the macro one-vs-rest AUC of a multiclass
model and R² of a regression (:func:`audits.task_metrics.fit_measure`), judged on the same bound
(HEUR, by analogy). The recipe refitted is the audit's training recipe
(:mod:`audits.core.recipe`: the model's own, rebuilt from its file, or the user's); a model with
none gets a not_assessed finding with the reason.

The input can go when the whole cost interval lies below 0.005 AUC
(``explainability.minimisation_cost``, judged with :func:`audits.core.results.judge`): attention,
keep it only with a recorded justification. When the interval lies wholly above the bound it
passes with its cost stated; otherwise it is inconclusive. A model that cannot be cloned or
retrained gets a not_assessed finding. The retrains run through ``parallel_map``.
"""

from __future__ import annotations

import warnings
from typing import Sequence

import numpy as np
import pandas as pd

from audits.core.bootstrap import bootstrap_weights, percentile_interval
from audits.core.parallel import parallel_map
from audits.core.results import Finding, Metric, Severity, Table, judge
from audits.core.seeds import derive_seed, seed_family
from audits.task_metrics import fit_measure

__all__ = ["proxy_map", "candidates", "selected_columns",
           "drop_column_clone",
           "retrain_scores", "assess_minimisation"]

_REF = ("GDPR Art. 5(1)(c); retrain-without-feature importance (leave-one-covariate-out); "
        "two-level bootstrap over rows and refits (Davison & Hinkley 1997)")


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
    """An unfitted clone with every ``random_state`` set to ``seed`` (one seed per refit)."""
    from sklearn.base import clone

    est = clone(model)
    params = est.get_params(deep=True)
    over = {k: int(seed) % (2**31 - 1) for k in params if k.endswith("random_state")}
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
    ``positive_label`` None scores a regression's predictions; a tuple of classes scores the
    probabilities of every class, columns in that order (a multiclass model).
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
                if positive is None:
                    scores = np.asarray(est.predict(B), dtype=float).ravel()
                elif isinstance(positive, tuple):
                    proba = np.asarray(est.predict_proba(B), dtype=float)
                    cols = [list(est.classes_).index(c) for c in positive]
                    scores = proba[:, cols]
                else:
                    pos = list(est.classes_).index(positive)
                    scores = np.asarray(est.predict_proba(B), dtype=float)[:, pos]
            return {"feature": feature, "method": method, "scores": scores}
        except Exception as e:  # any estimator may refuse: try the next method, then report
            errors.append(f"{type(e).__name__}: {e}")
    return {"feature": feature, "error": "; ".join(errors)}


def _capped(n: int, cap: int, seed: int) -> np.ndarray | None:
    """At most ``cap`` of ``n`` rows, drawn by ``seed`` and kept in order (None: all of them).
    The refits are trained like the reference models, up to ``reference_max_rows`` rows, and
    scored on as many non-members: their cost stays flat however many rows the audit has."""
    if cap <= 0 or n <= cap:
        return None
    return np.sort(np.random.default_rng(seed).choice(n, cap, replace=False))


def _rows_text(X, rows) -> str:
    return f"all {len(X):,}" if rows is None else f"a seeded sample of {len(X):,}"


def _fail_all(reasons, threshold, error):
    findings = [Finding(
        id=f"explainability.minimisation.{f}", severity=Severity.NOT_ASSESSED,
        area="explainability", title=f"Data minimisation: {f}", threshold=threshold,
        statement=(f"The model could not be retrained ({error}), so the cost of removing {f} "
                   f"({why}) was not measured."),
        action="Supply a retrainable model (a scikit-learn estimator or Pipeline) or measure "
               "the cost of removing it with your own training recipe.")
        for f, why in reasons.items()]
    return [], None, findings, [f"Minimisation: retraining failed: {error}"]


def _auc_reps(y, scores, n_boot, rng, measure=None) -> np.ndarray:
    """(n_fits, n_boot) values of the measure (default AUC) of each fit's scores on the same
    bootstrap rows."""
    measure = measure or fit_measure("binary", y)[1]
    out = [[] for _ in scores]
    for w in bootstrap_weights(len(y), n_boot, rng):
        for k, sc in enumerate(scores):
            out[k].append(measure(sc, w))
    return np.array([np.concatenate(o) for o in out])


def _seed_means(aucs: np.ndarray, rng) -> np.ndarray:
    """Per replicate, the mean AUC over seeds resampled with replacement (aucs: seeds x B)."""
    s, b = aucs.shape
    pick = rng.integers(0, s, size=(b, s))
    return aucs[pick, np.arange(b)[:, None]].mean(axis=1)


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
    cap = int(getattr(config, "reference_max_rows", 0) or 0)
    fit_rows = _capped(len(subject.members), cap, derive_seed(random_state, "fit rows"))
    scored_rows = _capped(len(subject.nonmembers), cap, derive_seed(random_state, "scored rows"))
    Xm, Xn = subject.X("members"), subject.X("nonmembers")
    ym = subject.members[subject.target]
    if fit_rows is not None:
        Xm, ym = Xm.iloc[fit_rows], ym.iloc[fit_rows]
    if scored_rows is not None:
        Xn = Xn.iloc[scored_rows]
    single = config.n_jobs != 1
    threshold = config.threshold("explainability.minimisation_cost")
    seeds = seed_family(int(random_state), max(1, int(config.minimise_seeds)))

    recipe = subject.recipe.estimator if getattr(subject, "recipe", None) is not None else \
        subject.model
    task = getattr(subject, "task", "binary")
    wanted = {"binary": subject.positive_label, "regression": None,
              "multiclass": tuple(subject.classes)}[task]

    def item(f, seed):
        return (recipe, f, Xm, ym, Xn, wanted, int(seed), single)

    first = parallel_map(retrain_scores, [item(None, s) for s in seeds[:2]], n_jobs=config.n_jobs)
    if any("error" in r for r in first):
        return _fail_all(reasons, threshold, next(r["error"] for r in first if "error" in r))
    deterministic = len(first) < 2 or np.array_equal(first[0]["scores"], first[1]["scores"])
    seeds = seeds[:1] if deterministic else seeds
    rest = parallel_map(retrain_scores, [item(None, s) for s in seeds[2:]]
                        + [item(f, s) for f in reasons for s in seeds], n_jobs=config.n_jobs)
    base = first[:len(seeds)] + rest[:max(len(seeds) - 2, 0)]
    runs = rest[max(len(seeds) - 2, 0):]
    by_feature = {f: runs[i * len(seeds):(i + 1) * len(seeds)] for i, f in enumerate(reasons)}
    y = subject.y("nonmembers") if task == "binary" else subject.labels("nonmembers")
    y = y if scored_rows is None else y[scored_rows]
    unit, measure = fit_measure(task, y, subject.classes)
    n = len(y)
    ones = np.ones((1, n))
    auc_with = np.array([float(measure(r["scores"], ones)[0]) for r in base])
    kept = {f: rs for f, rs in by_feature.items() if not any("error" in r for r in rs)}
    # every model on the same bootstrap rows (paired), drawn once for all of them
    fits = [r["scores"] for r in base] + [r["scores"] for rs in kept.values() for r in rs]
    all_reps = _auc_reps(y, fits, config.n_bootstrap, np.random.default_rng(random_state),
                         measure)
    base_reps = all_reps[:len(base)]
    reps_without = {f: all_reps[len(base) + i * len(seeds):len(base) + (i + 1) * len(seeds)]
                    for i, f in enumerate(kept)}
    seed_rng = np.random.default_rng([int(random_state), 1])
    with_means = _seed_means(base_reps, seed_rng)
    auc0 = float(auc_with.mean())
    refits = (f"{len(seeds)} seed{'s' if len(seeds) > 1 else ''} per model"
              + (" (the recipe is deterministic: identical refits)" if deterministic else ""))
    metrics, findings, rows = [], [], []
    for f, why in reasons.items():
        rs = by_feature[f]
        if f not in kept:
            error = next(r["error"] for r in rs if "error" in r)
            findings.append(Finding(
                id=f"explainability.minimisation.{f}", severity=Severity.NOT_ASSESSED,
                area="explainability", title=f"Data minimisation: {f}", threshold=threshold,
                statement=f"The model could not be retrained without {f} ({error}).",
                action="Measure the cost of removing it with your own training recipe."))
            rows.append((f, why, "retraining failed", auc0, None, None, None, None, None,
                         "unknown"))
            continue
        a1 = float(np.mean([measure(r["scores"], ones)[0] for r in rs]))
        cost = auc0 - a1
        cost_reps = with_means - _seed_means(reps_without[f], seed_rng)
        lo, hi = percentile_interval(cost_reps, confidence=config.confidence)
        m = Metric(name=f"minimisation.{f}", value=cost, ci=(lo, hi), n=n,
                   label=f"Holdout {unit} lost when {f} is removed (retrained with minus "
                         "retrained without; refit variability included)",
                   method=(f"{rs[0]['method']}; fits on {_rows_text(Xm, fit_rows)} "
                           f"members, scored on {_rows_text(Xn, scored_rows)} non-members, "
                           f"{refits}; "
                           f"bootstrap over the non-members (paired) and the seeds, "
                           f"{config.n_bootstrap} replicates"), reference=_REF)
        severity = judge(m.ci, threshold, value=m.value)
        metrics.append(m)
        verdict = {Severity.ATTENTION: "remove", Severity.PASS: "keep (costs accuracy)",
                   Severity.INCONCLUSIVE: "undecided (more rows would settle it)"}[severity]
        rows.append((f, why, rs[0]["method"], auc0, a1, cost, lo, hi, len(seeds), verdict))
        findings.append(_finding(f, why, auc0, a1, cost, (lo, hi), severity, m, threshold,
                                 config.confidence, unit))
    table = Table.from_frame("minimisation", pd.DataFrame(rows, columns=[
        "feature", "why", "method", "auc_with", "auc_without", "cost", "ci_low", "ci_high",
        "seeds", "recommendation"]), title="Cost of removing personal, sensitive and proxy inputs",
        note=(f"Both models retrained on {_rows_text(Xm, fit_rows)} members, {refits}; "
              f"cost = {unit} with minus "
              f"{unit} without on the non-members (mean over seeds), its interval from a "
              "bootstrap over the non-members and the seeds. 'remove': the whole interval lies "
              f"below {threshold.attention:g}."))
    return metrics, table, findings, []


def _finding(f, why, auc0, a1, cost, ci, severity, m, threshold, confidence,
             unit: str = "AUC") -> Finding:
    lo, hi = ci
    statement = (f"Removing {f} ({why}) and retraining changes the holdout {unit} from {auc0:.4f} "
                 f"to {a1:.4f}: it costs {cost:+.4f} {unit} ({confidence:.0%} interval {lo:+.4f} "
                 f"to {hi:+.4f}, refitting variability included).")
    if severity is Severity.ATTENTION:
        statement += (f" The whole interval lies below {threshold.attention:g} {unit}: the "
                      "input is not necessary.")
        action = (f"Remove {f} from the model (GDPR Art. 5(1)(c) data minimisation), or record "
                  "why it is necessary.")
        title = f"Data minimisation: {f} can go (removing it costs {cost:.4f} {unit})"
    elif severity is Severity.PASS:
        statement += f" The whole interval lies above {threshold.attention:g} {unit}."
        action = (f"Keep {f} only with a documented justification that {cost:.4f} {unit} is "
                  "worth processing it; consider a less sensitive substitute.")
        title = f"Data minimisation: removing {f} costs {cost:.4f} {unit}"
    else:
        statement += (f" The interval reaches across {threshold.attention:g} {unit}: these rows "
                      "cannot tell whether the input is needed.")
        action = (f"Treat {f} as possibly unnecessary: record why it is needed, or re-measure "
                  "with more holdout rows.")
        title = f"Data minimisation: {f} may not be needed (cost {cost:.4f} {unit})"
    return Finding(id=f"explainability.minimisation.{f}", severity=severity,
                   area="explainability", title=title, statement=statement, action=action,
                   metric=m, threshold=threshold)
