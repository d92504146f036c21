"""The three synthetic CRM datasets: how each is drawn, and how its planted effects are measured.

Each ``make_*`` takes a seeded ``numpy.random.Generator`` and returns the members, the non-members
and hidden truth that never reaches the CSV (e.g. the churn that really happened). Each
``measure_*`` takes the fitted model and the frames read back from CSV and returns the manifest's
``planted_effects`` (with the numbers measured directly) and ``expected_findings``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd
from scipy.stats import chi2_contingency
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sample_models import _people

REGIONS = ("Central", "North", "North East", "East", "South East", "South", "South West", "West")
EMAIL_DOMAINS = ("example.com", "example.org", "example.net")


@dataclass(frozen=True)
class Spec:
    """What a sample is: its columns' roles, its model family, and how to draw and measure it."""

    description: str
    target: str
    positive_label: object
    favourable_label: object
    favourable_action: str
    sensitive_fields: tuple
    personal_columns: tuple
    quasi_identifiers: tuple
    id_column: str
    feature_columns: tuple
    categorical: tuple
    model: str  # "hist_gradient_boosting" | "logistic" | "random_forest"
    make: Callable
    measure: Callable


# -- statistics ----------------------------------------------------------------------------

def cramers_v(x, y) -> float:
    """Bias-corrected Cramér's V (Bergsma 2013, J. Korean Stat. Soc. 42:323-328)."""
    table = pd.crosstab(np.asarray(x), np.asarray(y)).to_numpy()
    n = table.sum()
    r, k = table.shape
    if min(r, k) < 2:
        return 0.0
    phi2 = chi2_contingency(table, correction=False)[0] / n
    phi2 = max(0.0, phi2 - (k - 1) * (r - 1) / (n - 1))
    r_c, k_c = r - (r - 1) ** 2 / (n - 1), k - (k - 1) ** 2 / (n - 1)
    return float(np.sqrt(phi2 / min(r_c - 1, k_c - 1)))


def selection_rates(decisions, groups, rng, n_boot=2000) -> dict:
    """Selection rate per group and its ratio to the best group, with stratified bootstrap 95%
    intervals (counts resampled within each group: binomial draws of the group's decisions)."""
    decisions, groups = np.asarray(decisions), np.asarray(groups).astype(str)
    names = sorted(set(groups))
    n = np.array([(groups == g).sum() for g in names])
    rate = np.array([decisions[groups == g].mean() for g in names])
    ratio = rng.binomial(n, rate, size=(n_boot, len(names))) / n
    ratio = ratio / ratio.max(axis=1, keepdims=True)
    lo, hi = np.percentile(ratio, [2.5, 97.5], axis=0)
    return {g: {"n": int(n[i]), "selection_rate": _r(rate[i]),
                "ratio_to_best": _r(rate[i] / rate.max()), "ratio_ci95": [_r(lo[i]), _r(hi[i])]}
            for i, g in enumerate(names)}


def _r(x, digits=4) -> float:
    return round(float(x), digits)


def _aucs(model, members, nonmembers, spec, proba=None) -> dict:
    """AUC on members and on non-members, their gap, and the AUC of the LOSS membership attack
    (Yeom et al. 2018: score = model probability of the recorded label). ``proba`` may hold the
    predict_proba of each part, already computed."""
    parts = {"members": members, "nonmembers": nonmembers}
    proba = proba or {k: model.predict_proba(f[list(spec.feature_columns)])
                      for k, f in parts.items()}
    positive = list(model.classes_).index(spec.positive_label)
    auc = {k: roc_auc_score(f[spec.target] == spec.positive_label, proba[k][:, positive])
           for k, f in parts.items()}
    p_true = [_p_label(model, proba[k], f[spec.target]) for k, f in parts.items()]
    loss = roc_auc_score(np.r_[np.ones(len(members)), np.zeros(len(nonmembers))],
                         np.concatenate(p_true))
    return {"auc_members": _r(auc["members"]), "auc_nonmembers": _r(auc["nonmembers"]),
            "auc_gap": _r(auc["members"] - auc["nonmembers"]), "loss_attack_auc": _r(loss)}


def _finding(finding_id, severity, why) -> dict:
    return {"finding_id": finding_id, "severity": severity, "why": why}


# -- shared drawing helpers ----------------------------------------------------------------

def _people_columns(rng, gender, id_prefix, domains=None) -> dict:
    n = len(gender)
    first, last = _people.full_names(rng, gender)
    if domains is None:
        domains = np.asarray(EMAIL_DOMAINS, dtype=object)[rng.integers(0, len(EMAIL_DOMAINS), n)]
    return {"id": _people.unique_ids(rng, n, id_prefix),
            "full_name": np.array([f"{f} {l}" for f, l in zip(first, last)], dtype=object),
            "email": _people.emails(first, last, domains), "phone": _people.phones(rng, n)}


def _split(df, n_members, rng, id_column, hidden=()) -> tuple:
    """Random members/non-members split; each file sorted by id like an extract; hidden columns
    returned separately, aligned with the rows."""
    order = rng.permutation(len(df))
    parts = [df.iloc[order[:n_members]], df.iloc[order[n_members:]]]
    parts = [p.sort_values(id_column, kind="stable").reset_index(drop=True) for p in parts]
    truth = {name: p[list(hidden)].copy() for name, p in zip(("members", "nonmembers"), parts)}
    return parts[0].drop(columns=list(hidden)), parts[1].drop(columns=list(hidden)), truth


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


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


def _band(values, bins=5):
    """Quantile bands for a numeric column with many values, the column itself otherwise; the top
    1% is pooled with the 99th percentile first (a few bulk buyers must not merge a count's
    bands)."""
    values = pd.Series(values)
    if values.dtype.kind in "if":
        values = values.clip(upper=values.quantile(0.99))
    if values.dtype.kind in "if" and values.nunique() > bins:
        return pd.qcut(values, bins, labels=False, duplicates="drop")
    return values


# -- purchase propensity: a memorising forest with a sensitive input --------------------------

N_OUTLIERS = 10         # planted memorisation targets: one loyalty card of each business below
EP_RATE = 0.2           # share of expecting parents (the baby-club flag)
# Poisson means of the tell-tale purchases for (other customers, expecting parents)
_EP_BASKET = {"n_baby_products": (0.3, 1.0), "n_vitamins": (0.5, 0.9),
              "n_unscented_lotion": (0.15, 0.4)}
_LABEL_BASKET = 2.5     # scale of the basket's effect on buying it
_LABEL_NOISE = 0.2      # share of the households' recorded labels flipped
# Planted outliers. Ten small businesses each shop on N_OTHER_CARDS + 1 loyalty cards (one per
# branch or member of staff) and buy in bulk what a household buys by the unit: below, the
# (low, high) range of each bulk column, far beyond any household's basket, with at least one
# amount so that no two cards are alike. A business's cards buy within +-_CARD_SPREAD of one bulk
# basket (drawn in the ranges) and share its other columns. A business took up the home-delivery
# subscription on all its cards or on none, except on one card recorded the other way: the
# outlier. The training extract kept one card per business, the outlier, so it is unique among the
# members, and the business's other cards (all non-members) imply the opposite of its label. (A
# customer unlike everyone else cannot be among the most exposed of a fully grown forest: left out,
# it is predicted from the nearest households, whose labels carry the 20% flips, and thousands of
# ordinary mislabelled customers are predicted as wrongly.)
BUSINESSES = {
    "cafe": {"n_groceries": (250, 400), "spend_groceries": (1500, 3000)},
    "day nursery": {"n_baby_products": (30, 60), "spend_baby": (400, 900)},
    "health-food shop": {"n_vitamins": (30, 60), "spend_vitamins": (400, 900)},
    "care home": {"n_unscented_lotion": (20, 40), "n_vitamins": (12, 20),
                  "spend_vitamins": (150, 300)},
    "phone repair shop": {"n_electronics": (20, 40), "spend_electronics": (4000, 10000)},
    "beauty salon": {"n_beauty": (25, 50), "n_electronics": (4, 8),
                     "spend_electronics": (600, 1200)},
    "childminder": {"n_baby_products": (12, 20), "spend_baby": (150, 300),
                    "n_groceries": (150, 220), "spend_groceries": (700, 1100)},
    "office": {"n_electronics": (8, 15), "spend_electronics": (1500, 3000),
               "n_groceries": (150, 220), "spend_groceries": (700, 1100)},
    "gym": {"n_vitamins": (12, 20), "spend_vitamins": (150, 300), "n_beauty": (12, 20)},
    "guest house": {"n_unscented_lotion": (12, 20), "n_beauty": (12, 20),
                    "n_groceries": (150, 220), "spend_groceries": (700, 1100)},
}
N_OTHER_CARDS = 15      # cards of each business besides its outlier
_CARD_SPREAD = 0.1


def make_purchase_propensity(rng):
    n_households, n_members = 15_990, 3_990             # the 10 outliers make it 4,000 members
    ep = (rng.random(n_households) < EP_RATE).astype(int)
    frame = _baskets(rng, ep)
    # the promoted product is a grocery home-delivery subscription: buying it depends on the
    # grocery habits, not on being an expecting parent; a share of the recorded labels is flipped
    logit = _LABEL_BASKET * (0.08 * (frame["visits_90d"] - 9) + 0.12 * (frame["loyalty_years"] - 7)
                             + 0.3 * (frame["n_beauty"] - 1.2)
                             + 0.01 * (frame["spend_groceries"] - 77))
    y = (rng.random(n_households) < _sigmoid(logit)) ^ (rng.random(n_households) < _LABEL_NOISE)
    frame["purchased_offer"] = y.astype(int)
    frame["_business"], frame["_outlier"] = "", False
    cards = _business_cards(rng)
    # households are members or not at random (frame's rows are independent draws); the training
    # extract kept one card per business, the outlier, and the other cards take the place of the
    # last households among the 12,000 non-members
    others = cards[~cards["_outlier"]]
    members = pd.concat([frame.iloc[:n_members], cards[cards["_outlier"]]], ignore_index=True)
    nonmembers = pd.concat([frame.iloc[n_members:n_households - len(others)], others],
                           ignore_index=True)
    n_all = len(members) + len(nonmembers)
    gender = rng.choice(["female", "male"], n_all)
    people = _people_columns(rng, gender, "P")
    df = pd.concat([pd.DataFrame({"customer_id": people["id"], "full_name": people["full_name"],
                                  "email": people["email"],
                                  "loyalty_card_number": _people.card_numbers(rng, n_all)}),
                    pd.concat([members, nonmembers], ignore_index=True)], axis=1)
    df["_member"] = np.arange(n_all) < len(members)
    df = df.sort_values("customer_id", kind="stable").reset_index(drop=True)[_PURCHASE_COLUMNS]
    parts = [df[df["_member"]].reset_index(drop=True), df[~df["_member"]].reset_index(drop=True)]
    truth = {k: p[["_outlier", "_business"]] for k, p in zip(("members", "nonmembers"), parts)}
    return (*[p.drop(columns=["_member", "_outlier", "_business"]) for p in parts], truth)


_PURCHASE_COLUMNS = [
    "customer_id", "full_name", "email", "loyalty_card_number", "age", "postcode_region",
    "loyalty_years", "visits_90d", "avg_basket_value", "n_groceries", "spend_groceries",
    "n_baby_products", "spend_baby", "n_vitamins", "spend_vitamins", "n_unscented_lotion",
    "n_electronics", "spend_electronics", "n_beauty", "expecting_parent", "purchased_offer",
    "_member", "_outlier", "_business"]


_SPEND_COLUMNS = ("spend_baby", "spend_vitamins", "spend_groceries", "spend_electronics")


def _baskets(rng, ep):
    n = len(ep)
    age = np.where(ep == 1, rng.normal(33, 7, n), rng.normal(45, 16, n))
    counts = {c: rng.poisson(np.where(ep == 1, hi, lo)) for c, (lo, hi) in _EP_BASKET.items()}
    lam = rng.gamma(4.0, 6.0, n)
    n_groc, n_elec = rng.poisson(lam), rng.poisson(0.35, n)
    spend = {"spend_baby": rng.gamma(4.0 * counts["n_baby_products"], 2.5),
             "spend_vitamins": rng.gamma(3.0 * counts["n_vitamins"], 2.5),
             "spend_groceries": rng.gamma(2.0 * n_groc, 1.6),
             "spend_electronics": rng.gamma(2.0 * n_elec, 30.0)}
    visits = 1 + rng.poisson(lam / 3)
    frame = pd.DataFrame({
        "age": np.clip(np.rint(age), 18, 90).astype(int),
        "postcode_region": rng.choice(REGIONS, n), "loyalty_years": rng.integers(0, 16, n),
        "visits_90d": visits, **counts, "n_groceries": n_groc, "n_electronics": n_elec,
        "n_beauty": rng.poisson(1.2, n), **{k: np.round(v, 2) for k, v in spend.items()},
        "expecting_parent": ep})
    frame["avg_basket_value"] = np.round(sum(spend.values()) / visits, 2)
    return frame


def _business_cards(rng):
    """The businesses' loyalty cards (hidden columns ``_business``, ``_outlier``): per business,
    N_OTHER_CARDS cards with the business's label and, first, its outlier with the other one."""
    decisions = rng.permutation(np.arange(len(BUSINESSES)) % 2)   # half of them took it up
    n = N_OTHER_CARDS + 1
    out = []
    for (kind, bulk), decision in zip(BUSINESSES.items(), decisions):
        cards = _baskets(rng, np.zeros(1, int)).iloc[np.zeros(n, int)].reset_index(drop=True)
        for column, (lo, hi) in bulk.items():
            value = rng.uniform(lo, hi) * (1 + rng.uniform(-_CARD_SPREAD, _CARD_SPREAD, n))
            cards[column] = (np.rint(value).astype(int) if column.startswith("n_")
                             else np.round(value, 2))
        cards["avg_basket_value"] = np.round(cards[list(_SPEND_COLUMNS)].sum(axis=1)
                                             / cards["visits_90d"], 2)
        cards["purchased_offer"] = np.r_[1 - decision, np.full(n - 1, decision)]
        cards["_business"], cards["_outlier"] = kind, np.arange(n) == 0
        out.append(cards)
    return pd.concat(out, ignore_index=True)


def measure_purchase_propensity(model, members, nonmembers, hidden, rng, spec):
    features = list(spec.feature_columns)
    parts = {"members": members, "nonmembers": nonmembers}
    proba = {k: model.predict_proba(f[features]) for k, f in parts.items()}
    aucs = _aucs(model, members, nonmembers, spec, proba)
    out = hidden["members"]["_outlier"].to_numpy()
    p_true = {k: _p_label(model, proba[k], f[spec.target]) for k, f in parts.items()}
    # what the rest of the data implies for the outliers: the recipe refitted on everyone else
    others = pd.concat([members[~out], nonmembers], ignore_index=True)
    rest = clone(model).fit(others[features], others[spec.target])
    p_rest = _p_label(rest, rest.predict_proba(members.loc[out, features]),
                      members.loc[out, spec.target])
    business = {k: hidden[k]["_business"].to_numpy() for k in parts}
    kinds = business["members"][out]
    other_cards = {k: int(((business[k] != "") & ~(hidden[k]["_outlier"].to_numpy())).sum())
                   for k in parts}
    attribute = _attribute_inference(model, members, nonmembers, spec, rng)
    decisions = model.classes_[np.argmax(proba["nonmembers"], axis=1)]  # the forest's predict
    rates = selection_rates(decisions, nonmembers["expecting_parent"], rng)
    lowest = min(rates.values(), key=lambda g: g["ratio_to_best"])
    both = pd.concat([members, nonmembers], ignore_index=True)
    proxies = {c: _r(cramers_v(_band(both[c]), both["expecting_parent"]))
               for c in features if c != "expecting_parent"}
    effects = [
        {"id": "memorisation",
         "description": (f"A fully grown random forest (min_samples_leaf=1) on labels with "
                         f"{_LABEL_NOISE:.0%} flipped: it fits its 4,000 members almost "
                         "perfectly."),
         "measured": {**aucs,
                      "mean_p_true_label_members": _r(p_true["members"].mean()),
                      "mean_p_true_label_nonmembers": _r(p_true["nonmembers"].mean())}},
        {"id": "outliers",
         "description": (f"{N_OUTLIERS} members, one loyalty card of each of {len(BUSINESSES)} "
                         f"small businesses that buy in bulk, far beyond any household. Each "
                         f"business took up the offer on all its {N_OTHER_CARDS} other cards "
                         f"(non-members: the training extract kept one card per business) or on "
                         f"none, and the outlier card is recorded the other way: unique among the "
                         f"members, with a label the rest of the data contradicts."),
         "customer_ids": members.loc[out, "customer_id"].tolist(), "businesses": kinds.tolist(),
         "measured": {"mean_p_true_label": _r(p_true["members"][out].mean()),
                      "mean_p_true_label_refit_without_them": _r(p_rest.mean()),
                      "max_p_true_label_refit_without_them": _r(p_rest.max()),
                      "other_business_cards": other_cards}},
        {"id": "sensitive_input",
         "description": ("expecting_parent (a health-related, GDPR Art. 9 kind of attribute) is a "
                         "model input, and baby, vitamin and unscented-lotion purchases reveal it "
                         "in part (the Target pregnancy-prediction case)."),
         "measured": {"prevalence": _r(both["expecting_parent"].mean()),
                      "cramers_v_with_expecting_parent": proxies,
                      "selection_rates": rates}},
        {"id": "attribute_inference", "description": (
            "Model inversion (Fredrikson et al. 2014): score each candidate value by prior x "
            "model probability of the recorded label; against an imputation baseline without "
            "model access trained on half the non-members (Jayaraman & Evans 2022). AUCs for "
            "expecting_parent, on members and on the other half of the non-members."),
         "measured": attribute},
    ]
    findings = [
        _finding("performance.generalisation_gap.auc", "attention",
                 f"AUC {aucs['auc_members']} on members, {aucs['auc_nonmembers']} on "
                 f"non-members: the gap {aucs['auc_gap']} is far above 0.05."),
        _finding("privacy.membership_inference.strongest", "fail",
                 f"The forest memorises its members; even the LOSS attack reaches AUC "
                 f"{aucs['loss_attack_auc']} (>= 0.65)."),
        _finding("fairness.sensitive_input.expecting_parent", "attention",
                 "expecting_parent is a model input."),
        _finding("privacy.attribute_inference.expecting_parent", "fail",
                 f"Inversion AUC {attribute['attack_auc_members']} on members against "
                 f"{attribute['attack_auc_nonmembers']} on non-members and a baseline of "
                 f"{attribute['baseline_auc_members']}."),
        _finding("fairness.disparate_impact.expecting_parent", "not fail",
                 f"The label does not depend on expecting_parent: lowest selection-rate ratio "
                 f"{lowest['ratio_to_best']}, interval {lowest['ratio_ci95']}."),
    ]
    return effects, findings


def _p_label(model, proba, y):
    """Model probability of the recorded label ``y``, from ``proba = model.predict_proba(X)``."""
    return proba[np.arange(len(proba)), np.searchsorted(model.classes_, np.asarray(y))]


def _attribute_inference(model, members, nonmembers, spec, rng):
    features, s = list(spec.feature_columns), "expecting_parent"
    half = rng.permutation(len(nonmembers)) < len(nonmembers) // 2
    known, held_out = nonmembers[half], nonmembers[~half]
    prior = known[s].mean()

    def attack(frame):
        both = pd.concat([frame[features].assign(**{s: v}) for v in (0, 1)], ignore_index=True)
        like = _p_label(model, model.predict_proba(both), np.tile(frame[spec.target], 2))
        like0, like1 = like[:len(frame)], like[len(frame):]
        return prior * like1 / (prior * like1 + (1 - prior) * like0 + 1e-12)

    others = [c for c in features if c not in (s, "postcode_region")] + [spec.target]
    baseline = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    baseline.fit(np.log1p(known[others]), known[s])

    def auc(frame, score):
        return _r(roc_auc_score(frame[s], score))
    return {"attack_auc_members": auc(members, attack(members)),
            "attack_auc_nonmembers": auc(held_out, attack(held_out)),
            "baseline_auc_members": auc(members, baseline.predict_proba(
                np.log1p(members[others]))[:, 1]),
            "baseline_auc_nonmembers": auc(held_out, baseline.predict_proba(
                np.log1p(held_out[others]))[:, 1])}


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
