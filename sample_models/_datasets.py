"""The three synthetic CRM datasets: how each is drawn, and how its planted effects are measured.

This module holds churn, lead_scoring and the registry ``SPECS``; purchase_propensity is drawn in
:mod:`sample_models._purchase`, and what all three share is in :mod:`sample_models._common`. Each
``make_*`` takes a seeded ``numpy.random.Generator`` and returns the members, the non-members
and hidden truth that never reaches the CSV (e.g. the churn that really happened). Each
``measure_*`` takes the fitted model and the frames read back from CSV and returns the manifest's
``planted_effects`` (with the numbers measured directly) and ``expected_findings``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sample_models import _people
from sample_models._common import (
    REGIONS,
    Spec,
    _aucs,
    _band,
    _finding,
    _people_columns,
    _r,
    _sigmoid,
    _split,
    cramers_v,
    selection_rates,
)
from sample_models._purchase import (
    make_purchase_propensity,
    measure_purchase_propensity,
)

# -- churn: a region proxy for ethnicity, and biased historical labels -----------------------

ETHNICITIES = ("White", "Asian", "Black", "Mixed/Other")
_ETHNICITY_SHARES = (0.5, 0.2, 0.2, 0.1)
# Residential segregation: each group lives mostly (share _SEGREGATION) in its "home" regions.
_HOME = {"White": ("North", "South West", "West", "Central"), "Asian": ("North East", "East"),
         "Black": ("South East", "South"), "Mixed/Other": ("Central", "East", "North")}
_SEGREGATION = 0.8
DISADVANTAGED = "Black"
SUPPRESSED_REGIONS = ("South East", "South")
_SUPPRESSION = 0.33  # share of real churners in those regions recorded as "not churned"


def make_churn(rng):
    n, n_members = 30_000, 15_000
    ethnicity = rng.choice(ETHNICITIES, n, p=_ETHNICITY_SHARES)
    region = np.empty(n, dtype=object)
    for group, home in _HOME.items():
        p = np.full(len(REGIONS), (1 - _SEGREGATION) / len(REGIONS))
        p[[REGIONS.index(h) for h in home]] += _SEGREGATION / len(home)
        region[ethnicity == group] = rng.choice(REGIONS, (ethnicity == group).sum(), p=p)
    gender = rng.choice(["female", "male"], n)
    age = np.clip(np.rint(rng.normal(46, 16, n)), 18, 90).astype(int)
    contract = rng.choice(["month-to-month", "one-year", "two-year"], n, p=[0.5, 0.3, 0.2])
    floor = np.select([contract == "one-year", contract == "two-year"], [12, 24], 1)
    tenure = np.clip(floor + np.rint(rng.gamma(1.6, 12, n)), 1, 72).astype(int)
    plan = rng.choice(["basic", "standard", "premium"], n, p=[0.45, 0.35, 0.2])
    base = np.select([plan == "standard", plan == "premium"], [24.99, 44.99], 12.99)
    spend = np.round(base + rng.gamma(2.0, 4.0, n), 2)
    calls = rng.poisson(1.1, n)
    payment = rng.choice(["direct debit", "credit card", "paypal", "bank transfer"], n,
                         p=[0.45, 0.3, 0.15, 0.1])
    logit = (-1.0 + 1.3 * (contract == "month-to-month") - 1.1 * (contract == "two-year")
             - 0.035 * (tenure - 20) + 0.45 * (calls - 1.1) + 0.02 * (spend - 28)
             - 0.015 * (age - 46) + 0.4 * np.isin(payment, ["credit card", "paypal"]))
    true_churn = rng.random(n) < _sigmoid(logit)
    suppressed = np.isin(region, SUPPRESSED_REGIONS) & (rng.random(n) < _SUPPRESSION)
    people = _people_columns(rng, gender, "C")
    df = pd.DataFrame({
        "customer_id": people["id"], "full_name": people["full_name"], "email": people["email"],
        "phone": people["phone"], "age": age, "gender": gender, "ethnicity": ethnicity,
        "postcode_region": region, "tenure_months": tenure, "plan": plan,
        "contract_type": contract, "payment_method": payment, "monthly_spend": spend,
        "support_calls": calls, "churned": (true_churn & ~suppressed).astype(int),
        "_true_churn": true_churn.astype(int)})
    return _split(df, n_members, rng, "customer_id", hidden=["_true_churn"])


def measure_churn(model, members, nonmembers, hidden, rng, spec):
    both = pd.concat([members, nonmembers], ignore_index=True)
    true = pd.concat([hidden["members"], hidden["nonmembers"]], ignore_index=True)["_true_churn"]
    v = cramers_v(both["postcode_region"], both["ethnicity"])
    in_two = both["postcode_region"].isin(SUPPRESSED_REGIONS)
    decisions = model.predict(nonmembers[list(spec.feature_columns)])
    by_ethnicity = selection_rates(decisions, nonmembers["ethnicity"], rng)
    by_gender = selection_rates(decisions, nonmembers["gender"], rng)
    worst = by_ethnicity[DISADVANTAGED]
    aucs = _aucs(model, members, nonmembers, spec)
    effects = [
        {"id": "region_proxy_for_ethnicity",
         "description": (f"Residential segregation: {_SEGREGATION:.0%} of each ethnic group lives "
                         f"in its home regions; {DISADVANTAGED} customers mostly in "
                         f"{' and '.join(SUPPRESSED_REGIONS)}. postcode_region is a model input, "
                         "ethnicity is not."),
         "measured": {"cramers_v_bias_corrected": _r(v), "rows": len(both),
                      f"share_of_{DISADVANTAGED}_in_{'_or_'.join(SUPPRESSED_REGIONS)}".replace(
                          " ", "_"): _r(in_two[both["ethnicity"] == DISADVANTAGED].mean()),
                      "share_of_others_there": _r(in_two[both["ethnicity"] != DISADVANTAGED]
                                                  .mean())}},
        {"id": "suppressed_churn_labels",
         "description": (f"Historical labels: {_SUPPRESSION:.0%} of the customers who really left "
                         f"in {' and '.join(SUPPRESSED_REGIONS)} were recorded as 'account "
                         "transferred', not churned, so the recorded churn there is too low."),
         "measured": {"true_churn_rate_by_ethnicity":
                      {g: _r(true[both["ethnicity"] == g].mean()) for g in ETHNICITIES},
                      "recorded_churn_rate_by_ethnicity":
                      {g: _r(both.loc[both["ethnicity"] == g, "churned"].mean())
                       for g in ETHNICITIES}}},
        {"id": "disparate_impact",
         "description": (f"On non-members the model predicts churn (and so offers a retention "
                         f"discount) far less often for {DISADVANTAGED} customers."),
         "measured": {"group": DISADVANTAGED, "selection_rate_ratio": worst["ratio_to_best"],
                      "selection_rate_ratio_ci95": worst["ratio_ci95"],
                      "by_ethnicity": by_ethnicity, "by_gender": by_gender}},
        {"id": "generalisation", "description": "A regularised boosted model that generalises.",
         "measured": aucs},
    ]
    findings = [
        _finding("fairness.disparate_impact.ethnicity", "fail",
                 f"Selection-rate ratio {worst['ratio_to_best']} for {DISADVANTAGED} customers, "
                 f"bootstrap interval {worst['ratio_ci95']}, wholly below 0.80."),
        _finding("fairness.proxy.postcode_region__ethnicity", "attention",
                 f"Bias-corrected Cramér's V {v:.2f} > 0.5 between a model input and ethnicity."),
        _finding("fairness.disparate_impact.gender", "not fail",
                 "Gender is independent of the features and labels."),
        _finding("performance.generalisation_gap.auc", "pass",
                 f"AUC gap members - non-members {aucs['auc_gap']} <= 0.05."),
        _finding("privacy.membership_inference.strongest", "pass",
                 f"Regularised boosting (depth-2 trees, 800-row leaves) on 15,000 rows: a low "
                 f"risk at most (AUC interval not wholly above 0.55); the LOSS attack's AUC is "
                 f"{aucs['loss_attack_auc']}."),
    ]
    return effects, findings


# -- lead scoring: the control -------------------------------------------------------------

_SOURCES = {"web form": 0.2, "webinar": 0.6, "referral": 1.0, "trade show": 0.3,
            "partner": 0.5, "paid search": 0.0, "cold outbound": -0.8}
_LEVELS = {"individual contributor": -0.4, "manager": 0.0, "director": 0.3, "vp": 0.5,
           "c-level": 0.3}
_SIZES = {"1-10": -0.5, "11-50": -0.1, "51-200": 0.2, "201-1000": 0.3, "1000+": 0.0}
_INDUSTRIES = ("retail", "manufacturing", "financial services", "healthcare", "software",
               "logistics", "education", "public sector")
_COUNTRIES = ("United Kingdom", "Germany", "France", "Netherlands", "Ireland", "Spain")
AGE_BANDS = ("18-34", "35-44", "45-54", "55+")


def make_lead_scoring(rng):
    n, n_members = 20_000, 10_000
    source = rng.choice(list(_SOURCES), n, p=[0.25, 0.1, 0.1, 0.1, 0.1, 0.2, 0.15])
    level = rng.choice(list(_LEVELS), n, p=[0.35, 0.3, 0.18, 0.1, 0.07])
    size = rng.choice(list(_SIZES), n, p=[0.2, 0.3, 0.25, 0.15, 0.1])
    industry = rng.choice(_INDUSTRIES, n)
    country = rng.choice(_COUNTRIES, n, p=[0.35, 0.2, 0.15, 0.12, 0.08, 0.1])
    pages = rng.poisson(2 + 3 * np.isin(source, ["web form", "paid search", "webinar"]), n)
    opened = rng.poisson(2.5, n)
    webinar = (rng.random(n) < 0.08 + 0.6 * (source == "webinar")).astype(int)
    days = np.clip(np.rint(rng.exponential(25, n)), 0, 365).astype(int)
    logit = (-0.9 + np.vectorize(_SOURCES.get)(source) + np.vectorize(_LEVELS.get)(level)
             + np.vectorize(_SIZES.get)(size) + 0.18 * (pages - 3.5) + 0.15 * (opened - 2.5)
             + 0.7 * webinar - 0.025 * (days - 25))
    converted = (rng.random(n) < _sigmoid(logit)).astype(int)
    # sensitive fields drawn independently of everything else: nothing to find
    gender = rng.choice(["female", "male"], n)
    age_band = rng.choice(AGE_BANDS, n, p=[0.3, 0.28, 0.24, 0.18])
    company, domain = _people.company_names(rng, n)
    people = _people_columns(rng, gender, "L", domains=domain)
    df = pd.DataFrame({
        "lead_id": people["id"], "contact_name": people["full_name"], "email": people["email"],
        "phone": people["phone"], "company_name": company, "gender": gender,
        "age_band": age_band, "country": country, "industry": industry, "company_size": size,
        "job_level": level, "lead_source": source, "pages_visited": pages,
        "emails_opened": opened, "webinar_attended": webinar, "days_since_contact": days,
        "converted": converted})
    return _split(df, n_members, rng, "lead_id")


def measure_lead_scoring(model, members, nonmembers, hidden, rng, spec):
    decisions = model.predict(nonmembers[list(spec.feature_columns)])
    aucs = _aucs(model, members, nonmembers, spec)
    rates = {f: selection_rates(decisions, nonmembers[f], rng) for f in spec.sensitive_fields}
    both = pd.concat([members, nonmembers], ignore_index=True)
    v_max = max(cramers_v(_band(both[c]), both[f])
                for c in spec.feature_columns for f in spec.sensitive_fields)
    effects = [{"id": "none_control",
                "description": ("Nothing planted: gender and age_band are drawn independently of "
                                "the features and the label; the model is regularised."),
                "measured": {**aucs, "selection_rates": rates,
                             "max_cramers_v_input_vs_sensitive": _r(v_max)}}]
    findings = [
        _finding("performance.generalisation_gap.auc", "pass",
                 f"Regularised logistic regression: AUC gap {aucs['auc_gap']}."),
        *[_finding(f"fairness.disparate_impact.{f}", "not fail",
                   f"{f} is independent of the features and the label.")
          for f in spec.sensitive_fields],
        _finding("privacy.membership_inference.strongest", "not fail",
                 f"Logistic regression with C=0.1 on 10,000 rows does not memorise: the LOSS "
                 f"attack's AUC is {aucs['loss_attack_auc']}."),
        *[_finding(f"privacy.attribute_inference.{f}", "not fail",
                   f"{f} is independent of everything the model sees.")
          for f in spec.sensitive_fields],
    ]
    return effects, findings


# -- the registry ----------------------------------------------------------------------------

SPECS = {
    "churn": Spec(
        description=("Subscription customers of a telecoms/streaming provider: will the customer "
                     "cancel? A retention discount is offered to predicted churners."),
        target="churned", positive_label=1, favourable_label=1,
        favourable_action="offered a retention discount",
        sensitive_fields=("ethnicity", "gender"),
        personal_columns=("customer_id", "full_name", "email", "phone"),
        quasi_identifiers=("age", "gender", "postcode_region"), id_column="customer_id",
        feature_columns=("tenure_months", "plan", "monthly_spend", "support_calls",
                         "payment_method", "contract_type", "postcode_region", "age"),
        categorical=("plan", "payment_method", "contract_type", "postcode_region"),
        model="hist_gradient_boosting", make=make_churn, measure=measure_churn),
    "lead_scoring": Spec(
        description=("B2B marketing leads: will the lead convert? Sales calls the leads scored "
                     "as likely to convert. The control sample: nothing is planted."),
        target="converted", positive_label=1, favourable_label=1,
        favourable_action="called by sales", sensitive_fields=("gender", "age_band"),
        personal_columns=("lead_id", "contact_name", "email", "phone", "company_name"),
        quasi_identifiers=("age_band", "gender", "country", "job_level"), id_column="lead_id",
        feature_columns=("lead_source", "industry", "company_size", "job_level", "country",
                         "pages_visited", "emails_opened", "webinar_attended",
                         "days_since_contact"),
        categorical=("lead_source", "industry", "company_size", "job_level", "country"),
        model="logistic", make=make_lead_scoring, measure=measure_lead_scoring),
    "purchase_propensity": Spec(
        description=("Loyalty-card customers of a pharmacy and grocery retailer, 90 days of "
                     "baskets: will the customer take up the promoted grocery home-delivery "
                     "subscription? A personalised coupon goes to the likely buyers."),
        target="purchased_offer", positive_label=1, favourable_label=1,
        favourable_action="sent a personalised discount coupon",
        sensitive_fields=("expecting_parent",),
        personal_columns=("customer_id", "full_name", "email", "loyalty_card_number"),
        quasi_identifiers=("age", "postcode_region"), id_column="customer_id",
        feature_columns=("n_baby_products", "spend_baby", "n_vitamins", "spend_vitamins",
                         "n_unscented_lotion", "n_groceries", "spend_groceries",
                         "n_electronics", "spend_electronics", "n_beauty", "visits_90d",
                         "avg_basket_value", "loyalty_years", "age", "postcode_region",
                         "expecting_parent"),
        categorical=("postcode_region",),
        model="random_forest", make=make_purchase_propensity,
        measure=measure_purchase_propensity),
}
