"""customer_value: a regression (customer lifetime value) trained natively with LightGBM.

An online retailer predicts each customer's value over the next 24 months (GBP) and assigns a
personal account manager to those predicted at or above a threshold. Planted:

1. **A proxy for gender.** ``main_category`` (the category a customer buys most) is a model input
   and depends on gender (beauty and fashion mostly women, electronics and sports mostly men).
2. **Historical labels under-record women's value.** Many households shop on one account, most
   often held by a man: for a share of the women, part of their spending was recorded on a
   partner's account, so their recorded 24-month value is too low. True value does not depend on
   gender.
3. **Result: lower predictions for women without gender as an input.** The model learns "beauty
   and fashion customers are worth less" and predicts lower values for women, and assigns them
   far fewer account managers.
4. **Control.** ``ethnicity`` is drawn independently of everything: nothing to find.

The model is regularised (shallow trees, large leaves, small steps), so it generalises.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sample_models._common import (
    REGIONS,
    _finding,
    _people_columns,
    _r,
    _split,
    cramers_v,
)

CATEGORIES = ("beauty", "fashion", "home", "garden", "electronics", "sports")
#: share of each category among women and among men (the proxy)
_CATEGORY_SHARES = {"female": (0.40, 0.34, 0.12, 0.06, 0.04, 0.04),
                    "male": (0.02, 0.06, 0.12, 0.20, 0.35, 0.25)}
ETHNICITIES = ("White", "Asian", "Black", "Mixed/Other")
_ETHNICITY_SHARES = (0.6, 0.18, 0.14, 0.08)
CHANNELS = ("search", "social", "referral", "affiliate", "email")
DISADVANTAGED = "female"
_SHARED_ACCOUNT = 0.75  # share of women part of whose spending was recorded on another account
_RECORDED = 0.25        # the share of their value that stayed on their own account
THRESHOLD = 900.0       # predicted 24-month value (GBP) at which an account manager is assigned


def make_customer_value(rng, n: int = 12_000):
    """The sample's rows, half of them members (``n`` larger for the benchmarks only)."""
    n_members = n // 2
    gender = rng.choice(["female", "male"], n)
    ethnicity = rng.choice(ETHNICITIES, n, p=_ETHNICITY_SHARES)
    category = np.empty(n, dtype=object)
    for g, shares in _CATEGORY_SHARES.items():
        category[gender == g] = rng.choice(CATEGORIES, (gender == g).sum(), p=shares)
    age = np.clip(np.rint(rng.normal(44, 14, n)), 18, 85).astype(int)
    region = rng.choice(REGIONS, n)
    tenure = np.clip(np.rint(rng.gamma(2.0, 14, n)), 1, 120).astype(int)
    orders = rng.poisson(2 + 4 * rng.gamma(1.5, 1.0, n) / 1.5, n)
    basket = np.round(np.exp(rng.normal(3.9, 0.45, n)), 2)
    returns = np.round(np.clip(rng.beta(1.5, 9, n), 0, 0.9), 3)
    newsletter = (rng.random(n) < 0.45).astype(int)
    app = (rng.random(n) < 0.35).astype(int)
    channel = rng.choice(CHANNELS, n, p=[0.35, 0.25, 0.15, 0.1, 0.15])
    # the true 24-month value: behaviour only (no gender, category or ethnicity effect)
    rate = orders * basket * (1 - returns) * (1 + 0.004 * np.minimum(tenure, 60))
    true_value = 2.0 * rate * (1 + 0.25 * newsletter + 0.35 * app)
    true_value = np.round(true_value * np.exp(rng.normal(0, 0.35, n)), 2)
    shared = (gender == DISADVANTAGED) & (rng.random(n) < _SHARED_ACCOUNT)
    recorded = np.round(np.where(shared, _RECORDED * true_value, true_value), 2)
    people = _people_columns(rng, gender, "V")
    df = pd.DataFrame({
        "customer_id": people["id"], "full_name": people["full_name"], "email": people["email"],
        "phone": people["phone"], "age": age, "gender": gender, "ethnicity": ethnicity,
        "postcode_region": region, "tenure_months": tenure, "orders_12m": orders,
        "avg_order_value": basket, "return_rate": returns, "newsletter": newsletter,
        "app_user": app, "main_category": category, "acquisition_channel": channel,
        "value_24m": recorded, "_true_value": true_value, "_shared_account": shared.astype(int)})
    return _split(df, n_members, rng, "customer_id", hidden=["_true_value", "_shared_account"])


def mean_ratio(values, groups, rng, n_boot=2000) -> dict:
    """Mean per group and its ratio to the highest group's mean, with stratified bootstrap 95%
    intervals (rows resampled within each group)."""
    values, groups = np.asarray(values, dtype=float), np.asarray(groups).astype(str)
    names = sorted(set(groups))
    parts = [values[groups == g] for g in names]
    means = np.array([p.mean() for p in parts])
    boot = np.column_stack([rng.choice(p, (n_boot, len(p))).mean(axis=1) for p in parts])
    ratio = boot / boot.max(axis=1, keepdims=True)
    lo, hi = np.percentile(ratio, [2.5, 97.5], axis=0)
    return {g: {"n": int(len(parts[i])), "mean": _r(means[i], 2),
                "ratio_to_highest": _r(means[i] / means.max()),
                "ratio_ci95": [_r(lo[i]), _r(hi[i])]} for i, g in enumerate(names)}


def regression_fit(model_predict, members, nonmembers, spec) -> dict:
    """R², MAE on members and non-members, their gap, and the AUC of a LOSS membership attack
    (score = minus the squared error; Yeom et al. 2018)."""
    from sklearn.metrics import mean_absolute_error, r2_score, roc_auc_score

    out, losses = {}, []
    for part, frame in (("members", members), ("nonmembers", nonmembers)):
        y = frame[spec.target].to_numpy(float)
        pred = model_predict(frame[list(spec.feature_columns)])
        out[f"r2_{part}"] = _r(r2_score(y, pred))
        out[f"mae_{part}"] = _r(mean_absolute_error(y, pred), 2)
        losses.append(-(y - pred) ** 2)
    out["r2_gap"] = _r(out["r2_members"] - out["r2_nonmembers"])
    member = np.r_[np.ones(len(members)), np.zeros(len(nonmembers))]
    out["loss_attack_auc"] = _r(roc_auc_score(member, np.concatenate(losses)))
    return out


def measure_customer_value(model_predict, members, nonmembers, hidden, rng, spec):
    from sample_models._common import selection_rates

    both = pd.concat([members, nonmembers], ignore_index=True)
    truth = pd.concat([hidden["members"], hidden["nonmembers"]], ignore_index=True)
    v = cramers_v(both["main_category"], both["gender"])
    v_control = max(cramers_v(both[c], both["ethnicity"]) for c in
                    ("main_category", "acquisition_channel", "postcode_region"))
    pred = model_predict(nonmembers[list(spec.feature_columns)])
    by_gender = mean_ratio(pred, nonmembers["gender"], rng)
    by_ethnicity = mean_ratio(pred, nonmembers["ethnicity"], rng)
    decided = (pred >= THRESHOLD).astype(int)
    sel_gender = selection_rates(decided, nonmembers["gender"], rng)
    sel_ethnicity = selection_rates(decided, nonmembers["ethnicity"], rng)
    true_by_gender = {g: _r(truth.loc[both["gender"] == g, "_true_value"].mean(), 2)
                      for g in ("female", "male")}
    recorded_by_gender = {g: _r(both.loc[both["gender"] == g, spec.target].mean(), 2)
                          for g in ("female", "male")}
    fit = regression_fit(model_predict, members, nonmembers, spec)
    worst = by_gender[DISADVANTAGED]
    worst_sel = sel_gender[DISADVANTAGED]
    effects = [
        {"id": "category_proxy_for_gender",
         "description": ("main_category is a model input and depends on gender (beauty and "
                         "fashion mostly women, electronics and sports mostly men); gender is "
                         "not an input."),
         "measured": {"cramers_v_bias_corrected": _r(v), "rows": len(both)}},
        {"id": "under_recorded_value",
         "description": (f"Historical labels: for {_SHARED_ACCOUNT:.0%} of the women, only "
                         f"{_RECORDED:.0%} of their spending stayed on their own account (the "
                         "rest was recorded on a household member's), so their recorded value "
                         "is too low; true value does not depend on gender."),
         "measured": {"true_mean_value_by_gender": true_by_gender,
                      "recorded_mean_value_by_gender": recorded_by_gender,
                      "shared_account_share_of_women": _r(
                          truth.loc[both["gender"] == "female", "_shared_account"].mean())}},
        {"id": "lower_predictions",
         "description": ("On non-members the model predicts lower values for women, and so "
                         f"assigns them fewer account managers (prediction >= {THRESHOLD:g})."),
         "measured": {"group": DISADVANTAGED,
                      "mean_prediction_ratio": worst["ratio_to_highest"],
                      "mean_prediction_ratio_ci95": worst["ratio_ci95"],
                      "selection_rate_ratio": worst_sel["ratio_to_best"],
                      "selection_rate_ratio_ci95": worst_sel["ratio_ci95"],
                      "mean_prediction_by_gender": by_gender,
                      "selection_by_gender": sel_gender}},
        {"id": "none_control",
         "description": "ethnicity is drawn independently of every column and of the label.",
         "measured": {"mean_prediction_by_ethnicity": by_ethnicity,
                      "selection_by_ethnicity": sel_ethnicity,
                      "max_cramers_v_input_vs_ethnicity": _r(v_control)}},
        {"id": "generalisation", "description": "A regularised LightGBM regression.",
         "measured": fit},
    ]
    findings = [
        _finding("fairness.mean_prediction_ratio.gender", "fail",
                 f"Mean prediction of women over men {worst['ratio_to_highest']}, bootstrap "
                 f"interval {worst['ratio_ci95']}, wholly below 0.80."),
        _finding("fairness.disparate_impact.gender", "fail",
                 f"Account managers assigned (prediction >= {THRESHOLD:g}): women's selection "
                 f"rate over men's {worst_sel['ratio_to_best']}, interval "
                 f"{worst_sel['ratio_ci95']}."),
        _finding("fairness.proxy.main_category__gender", "attention",
                 f"Bias-corrected Cramér's V {v:.2f} > 0.5 between a model input and gender."),
        _finding("fairness.mean_prediction_ratio.ethnicity", "not fail",
                 "Ethnicity is independent of the features and the label."),
        _finding("fairness.disparate_impact.ethnicity", "not fail",
                 "Ethnicity is independent of the features and the label."),
        _finding("privacy.membership_inference.strongest", "not fail",
                 f"Regularised boosting on 6,000 rows: the LOSS attack's AUC is "
                 f"{fit['loss_attack_auc']}."),
    ]
    return effects, findings
