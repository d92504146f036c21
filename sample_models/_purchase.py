"""The purchase_propensity sample: a memorising random forest with a sensitive input (the
expecting-parent flag) and ten planted outliers, the one training card of each small business whose
other cards (non-members) carry the opposite label, so that only memorisation gets it right.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sample_models import _people
from sample_models._common import (
    REGIONS,
    _aucs,
    _band,
    _finding,
    _p_label,
    _people_columns,
    _r,
    _sigmoid,
    cramers_v,
    selection_rates,
)

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


