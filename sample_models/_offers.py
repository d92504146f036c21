"""next_best_offer: a multiclass scikit-learn pipeline, shipped as skops and as ONNX.

At contract renewal a broadband and mobile provider presents each customer the offer its model
picks: ``basic_plan`` (the cheapest, no renewal discount), ``standard_plan`` or
``premium_bundle`` (the bundle with a 30% loyalty discount, the favourable offer). The model is
trained on the offers customers accepted in past renewal campaigns. Planted:

1. **Steering by age.** In past campaigns the agents presented only the basic plan to many
   customers aged 65 and over, whatever they needed, so those customers "accepted" the basic
   plan. True preferences do not depend on age: they follow data use, devices, streaming
   services and household size.
2. **Result: the model steers the 65+ band to the cheapest product.** ``age`` is a model input;
   the model predicts the basic plan far more often, and the discounted bundle far less often,
   for customers aged 65 and over (``age_band``, the sensitive field, is not an input).
3. **Control.** ``gender`` is drawn independently of everything: nothing to find.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sample_models._common import (
    REGIONS,
    _band,
    _finding,
    _people_columns,
    _r,
    _split,
    cramers_v,
    selection_rates,
)

OFFERS = ("basic_plan", "standard_plan", "premium_bundle")
FAVOURABLE = "premium_bundle"
CHEAPEST = "basic_plan"
AGE_BANDS = ("18-34", "35-49", "50-64", "65+")
STEERED = "65+"
_STEERING = 0.45  # share of 65+ customers to whom only the basic plan was presented
CONTRACTS = ("sim-only", "handset", "broadband-bundle")
_SHARPNESS = 2.0  # how decisively needs pick an offer (the utilities' scale)


def age_band(age) -> np.ndarray:
    age = np.asarray(age)
    return np.select([age < 35, age < 50, age < 65], AGE_BANDS[:3], AGE_BANDS[3]).astype(object)


def make_next_best_offer(rng, n: int = 12_000):
    """The sample's rows, half of them members (``n`` larger for the benchmarks only)."""
    n_members = n // 2
    gender = rng.choice(["female", "male"], n)
    age = np.clip(np.rint(rng.normal(48, 16, n)), 18, 90).astype(int)
    region = rng.choice(REGIONS, n)
    tenure = np.clip(np.rint(rng.gamma(2.0, 18, n)), 1, 180).astype(int)
    data_gb = np.round(rng.gamma(2.0, 12, n), 1)
    devices = 1 + rng.poisson(1.4, n)
    household = 1 + rng.poisson(1.3, n)
    streaming = rng.poisson(1.1, n)
    calls = rng.poisson(0.8, n)
    contract = rng.choice(CONTRACTS, n, p=[0.4, 0.35, 0.25])
    # true preferences: a multinomial logit on needs, nothing on age or gender
    u_standard = 0.5 + 0.05 * (data_gb - 24) + 0.3 * (devices - 2.4)
    u_premium = (-0.3 + 0.09 * (data_gb - 24) + 0.5 * (devices - 2.4) + 0.7 * (streaming - 1.1)
                 + 0.35 * (household - 2.3) + 0.5 * (contract == "broadband-bundle"))
    utility = _SHARPNESS * np.column_stack([np.zeros(n), u_standard, u_premium])
    p = np.exp(utility - utility.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    true_offer = np.array(OFFERS, dtype=object)[(rng.random(n)[:, None] > p.cumsum(axis=1))
                                                .sum(axis=1)]
    steered = (age >= 65) & (rng.random(n) < _STEERING)
    accepted = np.where(steered, CHEAPEST, true_offer)
    people = _people_columns(rng, gender, "N")
    df = pd.DataFrame({
        "customer_id": people["id"], "full_name": people["full_name"], "email": people["email"],
        "phone": people["phone"], "age": age, "age_band": age_band(age), "gender": gender,
        "postcode_region": region, "tenure_months": tenure, "monthly_data_gb": data_gb,
        "devices": devices, "household_size": household, "streaming_services": streaming,
        "support_calls": calls, "contract_type": contract, "accepted_offer": accepted,
        "_true_offer": true_offer, "_steered": steered.astype(int)})
    return _split(df, n_members, rng, "customer_id", hidden=["_true_offer", "_steered"])


def classifier_fit(proba, classes, members, nonmembers, spec) -> dict:
    """Accuracy and one-vs-rest macro AUC on members and non-members, their gaps, and the AUC of
    the LOSS membership attack (score = probability of the recorded label; Yeom et al. 2018).
    ``proba``: part -> predict_proba of that part's rows."""
    from sklearn.metrics import roc_auc_score

    out, p_true = {}, []
    for part, frame in (("members", members), ("nonmembers", nonmembers)):
        y = frame[spec.target].to_numpy()
        idx = np.searchsorted(classes, y)
        out[f"accuracy_{part}"] = _r((np.asarray(classes)[proba[part].argmax(axis=1)] == y)
                                     .mean())
        out[f"auc_ovr_{part}"] = _r(roc_auc_score(idx, proba[part], multi_class="ovr",
                                                  labels=np.arange(len(classes))))
        p_true.append(proba[part][np.arange(len(y)), idx])
    out["accuracy_gap"] = _r(out["accuracy_members"] - out["accuracy_nonmembers"])
    out["auc_ovr_gap"] = _r(out["auc_ovr_members"] - out["auc_ovr_nonmembers"])
    member = np.r_[np.ones(len(members)), np.zeros(len(nonmembers))]
    out["loss_attack_auc"] = _r(roc_auc_score(member, np.concatenate(p_true)))
    return out


def measure_next_best_offer(proba, classes, members, nonmembers, hidden, rng, spec):
    """``proba``: part -> the model's class probabilities for that part (columns ``classes``)."""
    classes = np.asarray(classes)
    predicted = classes[proba["nonmembers"].argmax(axis=1)]
    bands = nonmembers["age_band"]
    per_class = {offer: selection_rates((predicted == offer).astype(int), bands, rng)
                 for offer in OFFERS}
    favourable = per_class[FAVOURABLE][STEERED]
    by_gender = selection_rates((predicted == FAVOURABLE).astype(int), nonmembers["gender"], rng)
    both = pd.concat([members, nonmembers], ignore_index=True)
    truth = pd.concat([hidden["members"], hidden["nonmembers"]], ignore_index=True)
    true_share = {b: {o: _r((truth.loc[both["age_band"] == b, "_true_offer"] == o).mean())
                      for o in OFFERS} for b in AGE_BANDS}
    recorded_share = {b: {o: _r((both.loc[both["age_band"] == b, spec.target] == o).mean())
                          for o in OFFERS} for b in AGE_BANDS}
    v_age = cramers_v(_band(both["age"]), both["age_band"])  # age in quintile bands
    v_control = max(cramers_v(both[c], both["gender"]) for c in
                    ("contract_type", "postcode_region", "devices", "household_size"))
    fit = classifier_fit(proba, classes, members, nonmembers, spec)
    effects = [
        {"id": "steered_labels",
         "description": (f"Historical labels: in past renewals only the basic plan was presented "
                         f"to {_STEERING:.0%} of the customers aged 65 and over, who then "
                         "'accepted' it; true preferences do not depend on age."),
         "measured": {"true_offer_share_by_age_band": true_share,
                      "recorded_offer_share_by_age_band": recorded_share}},
        {"id": "age_steering",
         "description": (f"On non-members the model predicts the cheapest plan far more often, "
                         f"and the discounted bundle ({FAVOURABLE}) far less often, for the "
                         f"{STEERED} band; age is a model input, age_band is not."),
         "measured": {"group": STEERED, "favourable_class": FAVOURABLE,
                      "selection_rate_ratio": favourable["ratio_to_best"],
                      "selection_rate_ratio_ci95": favourable["ratio_ci95"],
                      "cheapest_share_by_age_band": {b: per_class[CHEAPEST][b]["selection_rate"]
                                                     for b in AGE_BANDS},
                      "predicted_class_by_age_band": per_class,
                      "cramers_v_age_vs_age_band": _r(v_age)}},
        {"id": "none_control",
         "description": "gender is drawn independently of every column and of the label.",
         "measured": {"favourable_by_gender": by_gender,
                      "max_cramers_v_input_vs_gender": _r(v_control)}},
        {"id": "generalisation",
         "description": "A random forest with 40-row leaves on 6,000 rows.", "measured": fit},
    ]
    findings = [
        _finding("fairness.disparate_impact.age_band", "fail",
                 f"The discounted bundle is predicted for the {STEERED} band at "
                 f"{favourable['ratio_to_best']} times the best band's rate, bootstrap interval "
                 f"{favourable['ratio_ci95']}, wholly below 0.80."),
        _finding("fairness.proxy.age__age_band", "attention",
                 f"age is a model input and determines age_band (bias-corrected Cramér's V "
                 f"{v_age:.2f} with age in quintile bands)."),
        _finding("fairness.disparate_impact.gender", "not fail",
                 "Gender is independent of the features and the label."),
        _finding("privacy.membership_inference.strongest", "not fail",
                 f"A forest with 40-row leaves: the LOSS attack's AUC is "
                 f"{fit['loss_attack_auc']}."),
    ]
    return effects, findings
