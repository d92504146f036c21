"""Erasure verification: does the model still expose the customers who asked to be erased?

GDPR Art. 17 gives a customer the right to have their data erased. Deleting their rows from the
data does not reach a model already trained on them if the model still carries them. Machine-
unlearning research tests exactly this with membership inference: after a correct erasure, the
erased records should look to an attacker like records the model never saw, as they would to a
model retrained without them (Graves, Nagisetty and Ganesh 2021, "Amnesiac Machine Learning",
AAAI; Hayes, Shumailov, Triantafillou, Khalifa and Papernot 2024, "Inexact Unlearning Needs More
Careful Evaluations to Avoid a False Sense of Privacy", which evaluates unlearning per example with
LiRA-style attacks; the NeurIPS 2023 machine-unlearning challenge scored submissions by how well
attacks tell unlearned from retrained models, Triantafillou et al. 2024). Chen, Zhang, Wang,
Backes, Humbert and Zhang 2021 ("When Machine Unlearning Jeopardizes Privacy", CCS) add the
warning that publishing a model before and after an erasure leaks membership in turn: this check
uses one model only. The EDPB (Opinion 28/2024) treats a model trained on personal data as still
holding it unless extracting it, membership inference included, is insignificant.

The three steps, on the audit's shared attack scores (:mod:`attacks.record_risk`, the reference
pool of :mod:`attacks.pool`: no retraining beyond the membership probe's):

1. signals: the strongest membership attack's score ("this model" mode, chosen on the selection
   records) for every target record;
2. scores: the erased customers still in the training rows, the other training customers and the
   holdout customers (never trained on);
3. summary: the AUC of the attack telling the erased customers from the holdout customers (0.5: no
   exposure; judged against ``privacy.erasure_exposure``, SACRO-ML's membership bounds), the AUC
   telling them from the other training customers (0.5: no more exposed than the others), each
   with a stratified bootstrap interval, and the share of each group an attacker flags at a 1%
   false-alarm rate. An exposed erased group means the model must be retrained without them (or
   put through a verified unlearning method and audited again) for the erasure to reach it.

The premise is the audit's: the members are the exact rows the model was trained on, so an erased
customer found among them was trained on, whatever the dates; and, as for every membership attack,
the holdout is drawn like the training rows (:mod:`attacks.preconditions`): when it is not, the
comparison with the holdout measures the split, and the check is not assessed. Erased ids are never
printed, only counted; counts under ``config.suppress_below`` are suppressed.
"""

from __future__ import annotations

import numpy as np

from attacks.membership import ATTACK_LABELS
from attacks.preconditions import membership_precondition
from attacks.record_risk import shared_scores
from audits.core.bootstrap import bootstrap_weights, percentile_interval, weighted_auc
from audits.core.cache import RunCache
from audits.core.config import AuditConfig
from audits.core.numbers import fmt, fmt_ci
from audits.core.results import Finding, Metric, ProbeResult, Severity, Table, judge
from audits.core.seeds import derive_seed
from audits.core.subject import AuditSubject

__all__ = ["run_erasure", "erased_member_rows", "auc_with_interval", "FLAG_FPR"]

AREA = "privacy"
FID = "privacy.erasure_exposure.all"
FLAG_FPR = 0.01
#: Who the erased customers are compared with: customers the model never saw (after a correct
#: erasure, the erased look like them, as they would to a model retrained without them).
BASELINE = "nonmembers"
_METHOD = ("AUC of the strongest membership attack on these two groups, stratified bootstrap "
           "percentile interval")
_REFERENCE = ("Hayes et al. 2024; Graves et al. 2021; Chen et al. 2021; Triantafillou et al. "
              "2024 (NeurIPS 2023 unlearning challenge); EDPB Opinion 28/2024")


def erased_member_rows(subject: AuditSubject) -> np.ndarray:
    """Boolean mask over the training rows: the customer asked to be erased."""
    erasure = subject.rights.erasure
    ids = subject.members[subject.id_column].astype(str).str.strip().to_numpy()
    return np.isin(ids, np.asarray(erasure.ids, dtype=object))


def auc_with_interval(a: np.ndarray, b: np.ndarray, *, n_boot: int, confidence: float,
                      random_state: int) -> tuple[float, tuple[float, float]]:
    """AUC of ``a`` scoring above ``b`` (ties one half), with a percentile interval from a
    bootstrap that resamples each group within itself."""
    y = np.r_[np.ones(a.size), np.zeros(b.size)]
    s = np.r_[a, b]
    point = float(weighted_auc(y, s, np.ones((1, s.size)))[0])
    rng_a, rng_b = (np.random.default_rng([random_state, i]) for i in (0, 1))
    reps = [weighted_auc(y, s, np.hstack([wa, wb])) for wa, wb in zip(
        bootstrap_weights(a.size, n_boot, rng_a), bootstrap_weights(b.size, n_boot, rng_b))]
    return point, percentile_interval(np.concatenate(reps), confidence=confidence)


def _flag_share(x: np.ndarray, threshold: float) -> float:
    return float((x > threshold).mean()) if x.size else float("nan")


def _not_assessed(statement: str, action: str, config: AuditConfig, note: str) -> ProbeResult:
    return ProbeResult(probe="erasure", area=AREA, findings=(Finding(
        FID, Severity.NOT_ASSESSED, "Erasure exposure not measured", statement, action=action,
        threshold=config.threshold("privacy.erasure_exposure"), area=AREA),), notes=(note,))


def run_erasure(subject: AuditSubject, config: AuditConfig, *, progress=None,
                cache: RunCache | None = None) -> ProbeResult:
    """Measure how exposed the erased customers still in the training rows are through the model
    (module docstring); a ``privacy.erasure_exposure.all`` finding says whether retraining
    without them is needed."""
    rights = subject.rights
    t = config.threshold("privacy.erasure_exposure")
    if rights is None or rights.erasure is None:
        return _not_assessed(
            "No erasure requests were declared, so whether the model still exposes customers "
            "who asked to be erased was not checked.",
            "Give the erased customers' ids with their request dates (--erased FILE, or on the "
            "Load page).", config, "No erasure requests declared.")
    erased = erased_member_rows(subject)
    n_req, k = len(set(rights.erasure.ids)), int(erased.sum())
    small = config.suppress_below
    requests = f"fewer than {small}" if n_req < small else f"{n_req:,}"
    if k == 0:
        return ProbeResult(probe="erasure", area=AREA, findings=(Finding(
            FID, Severity.PASS, "The model was not trained on any erased customer",
            f"None of the {requests} customers who asked to be erased is in the training rows, "
            "so the model was not trained on them and holds nothing of theirs to unlearn.",
            action="None needed.", threshold=t, area=AREA),),
            params={"requests": None if n_req < small else n_req, "erased_members": 0})
    if progress:
        progress("scoring the records with the strongest membership attack", 0.1)
    pre = membership_precondition(subject, config, cache=cache)
    if not pre.met:  # the comparison with the holdout would measure the split, not the model
        return _not_assessed(
            pre.reason + " The erased customers' exposure is measured against the holdout "
            "customers, so it cannot be judged either.", pre.remedy, config,
            "The holdout is not drawn like the training rows.")
    shared = shared_scores(subject, config, progress=progress, cache=cache)
    records = shared.records
    tmask = records.targets
    score = shared.modes["model"].scores[shared.strongest][0]
    is_mem, row = records.is_member[tmask], records.row[tmask]
    e = np.zeros(score.size, bool)
    e[is_mem] = erased[row[is_mem]]
    groups = {"erased": score[e], "members": score[is_mem & ~e], "nonmembers": score[~is_mem]}
    if groups["erased"].size == 0:
        return _not_assessed(
            "The erased customers in the training rows were left out of the attacks' sample of "
            "records, so their exposure could not be measured.",
            "Re-run the audit on fewer rows, or with these customers in the attacks' sample.",
            config, "Erased members not among the attacks' target records.")
    if progress:
        progress("comparing the erased customers with the others", 0.8)
    boot = dict(n_boot=config.n_bootstrap, confidence=config.confidence)
    auc_en, ci_en = auc_with_interval(groups["erased"], groups[BASELINE], **boot,
                                      random_state=derive_seed(subject.seed, "erasure", "vs_out"))
    auc_em, ci_em = auc_with_interval(groups["erased"], groups["members"], **boot,
                                      random_state=derive_seed(subject.seed, "erasure", "vs_in"))
    auc_mn, ci_mn = auc_with_interval(groups["members"], groups["nonmembers"], **boot,
                                      random_state=derive_seed(subject.seed, "erasure", "in_out"))
    flag = float(np.quantile(groups["nonmembers"], 1 - FLAG_FPR))
    severity = judge(ci_en, t, value=auc_en)
    n_e = int(groups["erased"].size)
    count = f"fewer than {small}" if n_e < small else f"{n_e:,}"
    attack = ATTACK_LABELS.get(shared.strongest, shared.strongest)
    measured = (f"the strongest membership attack ({attack}) tells them from customers it never "
                f"saw with AUC {fmt(auc_en)} {fmt_ci(ci_en)} (0.5: not at all; the other "
                f"training customers: {fmt(auc_mn)} {fmt_ci(ci_mn)})")
    beyond = ("more exposed than the other training customers" if ci_em[0] > 0.5 else
              "less exposed than the other training customers" if ci_em[1] < 0.5 else
              "no more exposed than the other training customers")
    beyond += f" (AUC {fmt(auc_em)} {fmt_ci(ci_em)} against them)"
    if severity is Severity.FAIL:
        title = "The model still exposes erased customers: retrain without them"
        statement = (f"The model was trained on {count} of the {requests} customers who asked to "
                     f"be erased, and still exposes them: {measured}; they are {beyond}. "
                     "Deleting their rows does not reach the model: it must be retrained "
                     "without them for the erasure (GDPR Art. 17) to take effect.")
        action = ("Delete their rows, retrain the model without them (or apply a verified "
                  "unlearning method) and re-run this audit before release.")
    elif severity is Severity.ATTENTION:
        title = "Erased customers may still be exposed through the model"
        statement = (f"The model was trained on {count} of the {requests} customers who asked to "
                     f"be erased: {measured}; they are {beyond}. An exposure cannot be ruled "
                     "out, so retraining without them is the safe way for the erasure (GDPR "
                     "Art. 17) to reach the model.")
        action = "Delete their rows and retrain without them, or show on more rows that they " \
                 "are not exposed."
    elif severity is Severity.INCONCLUSIVE:
        title = "Erased customers' exposure through the model cannot be established"
        statement = (f"The model was trained on {count} of the {requests} customers who asked to "
                     f"be erased: {measured}; they are {beyond}. These customers are too few for "
                     "the interval to rule out an exposure reaching the attention bound, so this "
                     "audit cannot say whether deleting their rows reaches the model (GDPR Art. "
                     "17): no exposure is shown, and none is ruled out.")
        action = ("Delete their rows from the data. Retraining is not shown to be needed; to "
                  "settle it, measure again when more erasure requests have been made, or "
                  "retrain without them.")
    else:
        title = "Erased customers are not exposed through the model"
        statement = (f"The model was trained on {count} of the {requests} customers who asked to "
                     f"be erased, but does not measurably expose them: {measured}; they are "
                     f"{beyond}. Their rows must still be deleted from the data; retraining is "
                     "not needed for the erasure (GDPR Art. 17) to reach the model.")
        action = "Delete their rows from the data; no retraining is needed for the erasure."
    metric = Metric("exposure_auc", auc_en, ci_en, method=_METHOD,
                    label="AUC: erased customers still trained on vs customers never seen",
                    reference=_REFERENCE, n=None if n_e < small else n_e)
    rows = []
    for name, label, auc, ci in (("erased", "erased customers still in the training rows",
                                  auc_en, ci_en),
                                 ("members", "other training customers", auc_mn, ci_mn),
                                 ("nonmembers", "holdout customers (never trained on)", 0.5,
                                  None)):
        x = groups[name]
        flagged = int((x > flag).sum())
        share = None if 0 < flagged < small else _flag_share(x, flag)
        rows.append((label, None if x.size < small else int(x.size), auc,
                     None if ci is None else ci[0], None if ci is None else ci[1], share))
    table = Table("erasure_exposure", ("group", "customers", "AUC against holdout",
                                       "AUC against holdout_low", "AUC against holdout_high",
                                       f"flagged at {FLAG_FPR:.0%} false alarms"),
                  tuple(rows), title="Exposure of the erased customers through the model",
                  note=f"Strongest attack: {attack}. Counts under {small} are suppressed (empty).")
    return ProbeResult(
        probe="erasure", area=AREA, metrics=(metric, Metric(
            "exposure_auc_vs_members", auc_em, ci_em, method=_METHOD, reference=_REFERENCE,
            label="AUC: erased customers vs the other training customers",
            n=None if n_e < small else n_e)),
        tables=(table,), findings=(Finding(FID, severity, title, statement, action, metric, t,
                                           AREA),),
        params={"requests": None if n_req < small else n_req,
                "strongest_attack": shared.strongest,
                "retrain_needed": severity in (Severity.ATTENTION, Severity.FAIL)})
