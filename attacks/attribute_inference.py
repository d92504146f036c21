"""Attribute inference and model inversion, always measured against a no-model baseline.

Can someone holding the model learn a customer's sensitive attribute (expecting a child, ethnicity,
age) better than someone holding only the same data? Three attackers predict the field ``s`` of a
record from its other model inputs, its true label ``y`` and, for the two attacks, the model:

- Model inversion, only where ``s`` is a model input (Fredrikson, Lantz, Jha, Lin, Page and
  Ristenpart 2014, "Privacy in Pharmacogenetics", USENIX Security; Fredrikson, Jha and Ristenpart
  2015, "Model Inversion Attacks that Exploit Confidence Information", CCS): for each group g of
  ``s``, substitute its candidate values v into the record, query the model and score
  ``prior(g) * sum_v w_v * P_model(y_true | x with v)``; normalised, this is the posterior.
  Candidates: a categorical group's (at most 10) most frequent values weighted by frequency; a
  numeric band's quartiles among the attacker's rows, weighted equally.
- Learned attack, for every field: gradient boosting trained on the attacker's rows to predict
  ``s`` from [other inputs, y, the model's score].
- Imputation baseline (Jayaraman and Evans 2022, "Are Attribute Inference Attacks Just
  Imputation?", CCS): the same classifier, rows and features, without the model's score.

Other tasks (issue 14), with the task's own signal: the label ``y`` the attackers hold is the
true class (a categorical input) of a multiclass model and the target's value of a regression;
the model's output the learned attack adds is every class's probability, or the prediction; and
model inversion scores the likelihood of the true label under each candidate value, the
probability of the true class, or the Gaussian likelihood of the residual with the fixed scale of
:mod:`attacks.signals` (its normaliser cancels between candidates).

Data: the attacker holds a seeded half of the non-members; evaluation is on the members and on the
other half of the non-members (disjoint from the attacker's rows), each capped at
``config.attribute_max_rows`` sampled rows. Groups follow the fairness probe
(:func:`audits.core.groups.group_codes`: a numeric field with more than 10 values is banded by
``config.age_bands``; missing is a group); groups with fewer than ``config.min_group_size`` attacker
rows are merged into ``OTHER``.

Metric: AUC of the probability of the true group (macro one-vs-rest beyond two groups) and balanced
accuracy of the top guess (argmax posterior / prior), with percentile bootstrap intervals. Raw
attack accuracy is not leakage: a naive tool reports 81% where the baseline gets the same
(METHODS.md). Two differences count, each on its interval, Bonferroni-adjusted over the field's
comparisons (level ``1 - (1 - confidence) / m``): the advantage, attack AUC minus baseline AUC on
the members (paired bootstrap: the same replicate weights for both), and the member gap, that
advantage on members minus the same advantage on non-members (independent bootstraps of the two
parts), so a field the other inputs predict better for members than for non-members is not
mistaken for leakage. Each is judged against ``privacy.attribute_inference`` (THRESHOLDS.md:
0.02 AUC, no effect 0) with :func:`audits.core.results.judge`; the worse attack decides each
statistic. The field is ``attention`` when one of the two reaches attention, ``fail`` when both
do, ``pass`` when both pass, ``inconclusive`` otherwise. The advantage on non-members (the model
reveals ``s`` of anyone it scores) is reported, not judged.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import pandas as pd

from attacks.attribute_statistics import attack_statistics, member_gap
from attacks.signals import task_signal
from audits.core.bootstrap import percentile_interval
from audits.core.config import AuditConfig
from audits.core.groups import group_codes
from audits.core.results import Finding, Metric, ProbeResult, Severity, Table, Threshold, judge
from audits.core.seeds import derive_seed
from audits.core.subject import PARTS, AuditSubject

__all__ = ["run_attribute_inference", "attack_signals", "attack_statistics", "member_gap"]

QUARTILES = (0.25, 0.5, 0.75)
OTHER = "other (small groups)"
REFERENCES = ("Fredrikson et al. 2014 (USENIX Security); Fredrikson, Jha & Ristenpart 2015 (CCS); "
              "Jayaraman & Evans 2022 (CCS)")
ATTACK_LABEL = {"inversion": "model inversion (Fredrikson et al. 2014)",
                "learned": "learned attack (model score + other data)",
                "baseline": "imputation baseline without the model (Jayaraman & Evans 2022)"}


# -- step 1: signals -------------------------------------------------------------------------

def _split(subject: AuditSubject, seed: int, max_rows: int) -> dict[str, np.ndarray]:
    """Row indices: attacker rows (non-members), evaluation members and evaluation non-members."""
    rng = np.random.default_rng(seed)
    n_non = len(subject.frame("nonmembers"))
    perm = rng.permutation(n_non)
    half = n_non // 2
    members = rng.permutation(len(subject.frame("members")))[:max_rows]
    return {"attacker": np.sort(perm[:half][:max_rows]), "members": np.sort(members),
            "nonmembers": np.sort(perm[half:][:max_rows])}


def _groups(values: dict[str, pd.Series], *, age_bands, min_size: int
            ) -> tuple[dict[str, np.ndarray], list[str]]:
    """Group codes of ``s`` for the attacker and evaluation rows, on one shared set of levels;
    groups with fewer than ``min_size`` attacker rows are merged into ``OTHER``."""
    keys = list(values)
    codes, levels = group_codes(pd.concat([values[k] for k in keys], ignore_index=True),
                                age_bands=age_bands)
    counts = np.bincount(codes[:len(values["attacker"])], minlength=len(levels))
    small = counts < min_size
    if small.any():
        keep = [lv for lv, s in zip(levels, small) if not s]
        remap = np.where(small, len(keep), np.cumsum(~small) - 1)
        codes, levels = remap[codes], keep + [OTHER]
    out, start = {}, 0
    for k in keys:
        out[k] = codes[start:start + len(values[k])]
        start += len(values[k])
    return out, levels


def _encode(frames: dict[str, pd.DataFrame], columns: list[str], fit_on: str
            ) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Numeric matrices for the attack models: numbers as they are, other columns as category
    codes of the attacker's 250 most frequent levels (other levels become missing)."""
    mats = {k: np.empty((len(f), len(columns))) for k, f in frames.items()}
    categorical = np.zeros(len(columns), dtype=bool)
    for j, c in enumerate(columns):
        col = frames[fit_on][c]
        if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
            for k, f in frames.items():
                mats[k][:, j] = f[c].to_numpy(dtype=float, na_value=np.nan)
            continue
        levels = col.astype(object).value_counts().index[:250]
        categorical[j] = True
        for k, f in frames.items():
            mats[k][:, j] = pd.Index(levels).get_indexer(f[c].astype(object))
            mats[k][mats[k][:, j] < 0, j] = np.nan
    return mats, categorical


def _classifier_proba(X_train, codes, X_eval: dict, categorical, n_groups: int, seed: int) -> dict:
    from sklearn.ensemble import HistGradientBoostingClassifier
    from threadpoolctl import threadpool_limits

    clf = HistGradientBoostingClassifier(
        max_iter=100, learning_rate=0.1, max_leaf_nodes=15, min_samples_leaf=20,
        l2_regularization=1.0, early_stopping=False, categorical_features=categorical,
        random_state=seed)
    out = {}
    with threadpool_limits(1):  # OpenMP threads on a shared machine slow it down 20-fold
        clf.fit(X_train, codes)
        for k, X in X_eval.items():
            p = np.zeros((len(X), n_groups))
            p[:, clf.classes_] = clf.predict_proba(X)
            out[k] = p
    return out


def _candidates(raw: pd.Series, codes: np.ndarray, n_groups: int, max_candidates: int
                ) -> list[list[tuple]]:
    """Per group, (value, weight) candidates from the attacker's rows."""
    numeric = pd.api.types.is_numeric_dtype(raw) and not pd.api.types.is_bool_dtype(raw)
    out = []
    for g in range(n_groups):
        vals = raw[codes == g]
        if len(vals) == 0:
            out.append([])
            continue
        present = vals.dropna()
        if numeric and present.nunique() > max_candidates:
            qs = np.quantile(present.to_numpy(), QUARTILES, method="inverted_cdf")
            out.append([(v, 1.0 / len(qs)) for v in qs])
            continue
        vc = vals.value_counts(dropna=False).iloc[:max_candidates]
        out.append([(v, c / vc.sum()) for v, c in vc.items()])
    return out


def _inversion(subject: AuditSubject, frame: pd.DataFrame, y: np.ndarray, field: str,
               candidates: list[list[tuple]], prior: np.ndarray) -> np.ndarray:
    """Fredrikson et al.'s posterior: prior(g) * sum_v w_v * P_model(y_true | x with s = v)."""
    X = frame[list(subject.feature_columns)]
    flat = [(g, v, w) for g, cands in enumerate(candidates) for v, w in cands]
    batch = pd.concat([X.assign(**{field: v}) for _, v, _ in flat], ignore_index=True)
    if subject.task == "binary":
        pos = list(subject.model.classes_).index(subject.positive_label)
        p = np.asarray(subject.model.predict_proba(batch), dtype=float)[:, pos]
        p = p.reshape(len(flat), -1)
        like = np.where(y[None, :] == 1, p, 1.0 - p)
    else:  # the likelihood of the true label (class, or value) under each candidate
        labels = np.tile(frame[subject.target].to_numpy(), len(flat))
        like = task_signal(subject).likelihood(subject.model, batch, labels)
        like = like.reshape(len(flat), -1)
    lik = np.zeros((len(X), len(prior)))
    for (g, _, w), row in zip(flat, like):
        lik[:, g] += w * row
    post = prior[None, :] * lik + 1e-12
    return post / post.sum(axis=1, keepdims=True)


def _label_and_outputs(subject: AuditSubject, src: dict, split: dict):
    """What the attackers hold besides the inputs: the true label as a number (0/1; a class's
    code, categorical; a regression's value) and the model's outputs (P(positive); every class's
    probability; the prediction), per attacker or evaluation part; and whether y is categorical."""
    if subject.task == "binary":
        return ({k: subject.y(src[k])[split[k]] for k in src},
                {k: subject.scores(src[k])[split[k]] for k in src}, False)
    if subject.task == "regression":
        return ({k: subject.labels(src[k])[split[k]] for k in src},
                {k: subject.predictions(src[k])[split[k]] for k in src}, False)
    index = {c: i for i, c in enumerate(subject.classes)}
    ys = {k: np.array([index[v] for v in subject.labels(src[k])[split[k]]], dtype=float)
          for k in src}
    return ys, {k: subject.proba(src[k])[split[k]] for k in src}, True


def attack_signals(subject: AuditSubject, field: str, *, config: AuditConfig, seed: int) -> dict:
    """Step 1: each attacker's probabilities of each group, on members and non-members.

    Returns a dict with ``levels`` (group names), ``codes`` (part -> true group codes), ``prior``
    (attacker group shares), ``proba`` (attack -> part -> array (n, groups)), ``n_attacker``.
    """
    split = _split(subject, derive_seed(seed, "split"), config.attribute_max_rows)
    frames = {"attacker": subject.frame("nonmembers").iloc[split["attacker"]],
              "members": subject.frame("members").iloc[split["members"]],
              "nonmembers": subject.frame("nonmembers").iloc[split["nonmembers"]]}
    frames = {k: f.reset_index(drop=True) for k, f in frames.items()}
    src = {"attacker": "nonmembers", "members": "members", "nonmembers": "nonmembers"}
    ys, scores, y_categorical = _label_and_outputs(subject, src, split)
    codes, levels = _groups({k: f[field] for k, f in frames.items()},
                            age_bands=config.age_bands, min_size=config.min_group_size)
    G = len(levels)
    prior = np.bincount(codes["attacker"], minlength=G) + 1.0
    prior /= prior.sum()
    out = {"levels": levels, "codes": {p: codes[p] for p in PARTS}, "prior": prior,
           "proba": {}, "n_attacker": len(frames["attacker"]), "is_input": False}
    if G < 2:
        return out
    mats, categorical = _encode(frames, [c for c in subject.feature_columns if c != field],
                                "attacker")
    for name, extra in (("baseline", ()), ("learned", (scores,))):  # same rows, features, seed
        X = {k: np.column_stack([m, ys[k], *(e[k] for e in extra)]) for k, m in mats.items()}
        n_out = sum(np.atleast_2d(e["attacker"].T).shape[0] for e in extra)
        out["proba"][name] = _classifier_proba(
            X["attacker"], codes["attacker"], {p: X[p] for p in PARTS},
            np.r_[categorical, [y_categorical], np.zeros(n_out, bool)].astype(bool), G,
            derive_seed(seed, "model"))
    if field in subject.feature_columns:
        out["is_input"] = True
        cands = _candidates(frames["attacker"][field], codes["attacker"], G,
                            config.attribute_max_candidates)
        try:
            out["proba"]["inversion"] = {
                p: _inversion(subject, frames[p], ys[p], field, cands, prior) for p in PARTS}
        except (ValueError, TypeError, KeyError) as e:  # the model refuses a substituted value
            out["inversion_error"] = f"{type(e).__name__}: {e}"
    return out


# -- step 3: summary -------------------------------------------------------------------------

def _field_summary(subject: AuditSubject, field: str, signals: dict, stats: dict,
                   config: AuditConfig, threshold: Threshold) -> tuple[list, list, Finding]:
    attacks = [a for a in ("inversion", "learned") if a in stats]
    adj = 1 - (1 - config.confidence) / (2 * len(attacks))
    boot = f"percentile bootstrap, {config.n_bootstrap} replicates"
    n = {p: len(signals["codes"][p]) for p in PARTS}
    metrics, rows, leak = [], [], {}
    for a in ["baseline", *attacks]:
        for part in PARTS:
            for m in ("auc", "balanced_accuracy"):
                point, reps = stats[a][part][m]
                metrics.append(Metric(
                    f"{field}.{a}.{m}.{part}", point, 
                    percentile_interval(reps, confidence=config.confidence),
                    method=boot, label=f"{ATTACK_LABEL[a]}: {m.replace('_', ' ')} on {part}",
                    reference=REFERENCES, n=n[part]))
    for a in attacks:
        adv = {p: (stats[a][p]["auc"][0] - stats["baseline"][p]["auc"][0],
                   stats[a][p]["auc"][1] - stats["baseline"][p]["auc"][1]) for p in PARTS}
        gap = member_gap(stats, a)
        for p in PARTS:
            metrics.append(Metric(
                f"{field}.{a}.advantage.{p}", adv[p][0],
                percentile_interval(adv[p][1], confidence=adj),
                method=f"paired {boot}; {adj:.2%} interval (Bonferroni over "
                       f"{2 * len(attacks)} comparisons)",
                label=f"{ATTACK_LABEL[a]}: AUC minus the no-model baseline's, on {p}",
                reference=REFERENCES, n=n[p]))
        metrics.append(Metric(
            f"{field}.{a}.member_gap", gap[0], percentile_interval(gap[1], confidence=adj),
            method=f"advantage on members minus advantage on non-members, each paired, the parts "
                   f"resampled independently ({boot}); {adj:.2%} interval (Bonferroni over "
                   f"{2 * len(attacks)} comparisons)",
            label=f"{ATTACK_LABEL[a]}: advantage over the baseline on members minus on "
                  "non-members",
            reference=REFERENCES, n=n["members"] + n["nonmembers"]))
        leak[a] = (metrics[-3], metrics[-1])
        rows.append((field, a, *(round(stats[b][p]["auc"][0], 4) for b in (a, "baseline")
                                 for p in PARTS), *(_fmt_ci(m) for m in metrics[-3:])))
    sev = {a: tuple(judge(m.ci, threshold, value=m.value) for m in leak[a]) for a in attacks}
    worst = [max((sev[a][i] for a in attacks), key=lambda x: x.rank) for i in (0, 1)]
    attention = [w in (Severity.ATTENTION, Severity.FAIL) for w in worst]
    severity = (Severity.FAIL if all(attention) else Severity.ATTENTION if any(attention) else
                Severity.PASS if all(w is Severity.PASS for w in worst) else
                Severity.INCONCLUSIVE)
    which = 0 if attention[0] or not attention[1] else 1  # the decisive statistic
    primary = max(attacks, key=lambda a: (sev[a][which].rank, leak[a][which].ci[0] or 0.0))
    decisive = leak[primary][which]
    finding = Finding(
        id=f"privacy.attribute_inference.{field}", severity=severity, area="privacy",
        title=f"Attribute inference of {field}", metric=decisive, threshold=threshold,
        statement=_statement(field, primary, stats, leak[primary], attention, severity,
                             threshold.attention),
        action=_action(severity, signals["is_input"], field))
    return metrics, rows, finding


def _fmt_ci(m: Metric) -> str:
    lo, hi = m.ci
    if lo is None:
        return f"{m.value:+.3f}"
    return f"{m.value:+.3f} [{lo:+.3f}, {hi:+.3f}]"


def _statement(field, attack, stats, leak, attention, severity, bound) -> str:
    ba = {p: [stats[a][p]["balanced_accuracy"][0] for a in (attack, "baseline")] for p in PARTS}
    adv, gap = leak
    text = (f"An attacker with the model, using {ATTACK_LABEL[attack]}, guesses {field} right "
            f"{ba['members'][0]:.0%} of the time for training customers, against "
            f"{ba['members'][1]:.0%} for the same attacker without the model (balanced accuracy); "
            f"for customers the model never saw, {ba['nonmembers'][0]:.0%} against "
            f"{ba['nonmembers'][1]:.0%}. In AUC the model adds {adv.value:+.3f} on training "
            f"customers (interval {adv.ci[0]:+.3f} to {adv.ci[1]:+.3f}), and that gain is "
            f"{gap.value:+.3f} larger on training customers than on new ones (interval "
            f"{gap.ci[0]:+.3f} to {gap.ci[1]:+.3f}); the bound on each is {bound:g}.")
    if severity is Severity.INCONCLUSIVE:
        return text + (" The intervals neither clear the bound nor show a gain: these records "
                       "cannot tell; more rows per group would settle it.")
    return text + " " + {
        (True, True): "Both reach the bound: the model reveals this attribute of the people it "
                      "was trained on beyond what their other data already reveal.",
        (True, False): "The model reveals this attribute beyond what the other data reveal.",
        (False, True): "The model's gain is larger on training customers than on new ones, "
                       "though not shown beyond the other data overall.",
        (False, False): "Neither difference reaches the bound: whatever can be guessed comes "
                        "from the data, not from the model (raw attack accuracy is not leakage)."
    }[tuple(attention)]


def _action(severity: Severity, is_input: bool, field: str) -> str:
    if severity is Severity.PASS:
        return "None needed."
    if severity is Severity.INCONCLUSIVE:
        return "Re-audit with more training and holdout rows to settle it."
    first = f"Remove {field} from the model's inputs if it is not justified; r" if is_input \
        else "R"
    return (first + "egularise the model (larger leaves, shallower trees, stronger penalty) so "
            "that it does not memorise its training customers; do not expose confidence scores, "
            "or round them; re-audit.")


def _not_assessed(fid: str, title: str, why: str) -> Finding:
    return Finding(id=fid, severity=Severity.NOT_ASSESSED, title=title, statement=why,
                   action="Declare the sensitive fields (--sensitive) with enough rows per group.",
                   area="privacy")


def run_attribute_inference(subject: AuditSubject, config: AuditConfig, *,
                            progress: Callable[[str, float], None] | None = None,
                            cache=None) -> ProbeResult:
    """Run attribute inference and model inversion for every sensitive field.

    Parameters
    ----------
    subject : the audit subject; its ``sensitive_fields`` are attacked.
    config : n_bootstrap, confidence, min_group_size, age_bands and the optional threshold
        ``privacy.attribute_inference`` (from the profile).
    progress : called as ``progress(stage, fraction)``.

    Returns
    -------
    ProbeResult of probe ``attribute_inference``, area ``privacy``: metrics per field, attack and
    part, a table ``attribute_inference`` and one finding ``privacy.attribute_inference.<field>``
    per field.
    """
    threshold = config.threshold("privacy.attribute_inference")
    params = {"n_bootstrap": config.n_bootstrap, "confidence": config.confidence,
              "max_rows": config.attribute_max_rows, "attacker_data": "half of the non-members",
              "seed": subject.seed}
    if not subject.sensitive_fields:
        return ProbeResult(
            probe="attribute_inference", area="privacy", status="not_assessed", params=params,
            notes=("No sensitive fields were declared.",),
            findings=(_not_assessed("privacy.attribute_inference.all", "Attribute inference",
                                    "No sensitive fields were declared, so attribute inference "
                                    "could not be assessed."),))
    metrics, rows, findings, notes = [], [], [], []
    n_fields = len(subject.sensitive_fields)
    for i, field in enumerate(subject.sensitive_fields):
        if progress:
            progress(f"attacking {field}", i / n_fields)
        seed = derive_seed(subject.seed, "attribute_inference", field)
        signals = attack_signals(subject, field, config=config, seed=seed)
        if len(signals["levels"]) < 2 or signals["n_attacker"] < 2 * config.min_group_size:
            why = (f"{field} has fewer than two groups with at least {config.min_group_size} rows "
                   "in the attacker's data, so attribute inference could not be judged.")
            findings.append(_not_assessed(f"privacy.attribute_inference.{field}",
                                          f"Attribute inference of {field}", why))
            notes.append(why)
            continue
        stats = attack_statistics(signals, n_boot=config.n_bootstrap, seed=seed)
        m, r, f = _field_summary(subject, field, signals, stats, config, threshold)
        metrics += m
        rows += r
        findings.append(f)
        notes.append(f"{field}: groups {signals['levels']}; "
                     + ("model input: inversion and learned attack." if signals["is_input"]
                        else "not a model input: learned attack only."))
        if "inversion_error" in signals:
            notes.append(f"{field}: model inversion skipped, the model could not score records "
                         f"with substituted values ({signals['inversion_error']}).")
    if progress:
        progress("done", 1.0)
    table = Table(
        name="attribute_inference",
        columns=("field", "attack", "auc_members", "auc_nonmembers", "baseline_auc_members",
                 "baseline_auc_nonmembers", "advantage_members", "advantage_nonmembers",
                 "member_gap"),
        rows=tuple(rows), title="Attribute inference against the no-model baseline",
        note=("AUC (macro one-vs-rest beyond two groups). Advantage: attack minus baseline on the "
              "same rows; member gap: the advantage on members minus on non-members; intervals "
              "Bonferroni-adjusted per field. The attacker holds half of the non-members, never "
              "evaluated."))
    return ProbeResult(probe="attribute_inference", area="privacy", metrics=tuple(metrics),
                       tables=(table,), findings=tuple(findings), notes=tuple(notes),
                       params=params)
