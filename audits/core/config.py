"""Audit configuration: every threshold with its source, and the run's parameters.

The default profile reproduces ``THRESHOLDS.md``. A profile has a name and a hash (SHA-256 of its
canonical JSON), both printed on the report's cover. A TOML file overrides parameters and
thresholds::

    name = "our-board-2026"
    [params]
    n_bootstrap = 2000
    [thresholds."fairness.selection_rate_ratio"]
    band = [0.9, 1.11]
    source = "Our board's stricter screen"
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from audits.core.errors import InputError
from audits.core.results import Threshold

__all__ = ["AuditConfig", "DEFAULT_THRESHOLDS", "load_config"]

_T = Threshold
DEFAULT_THRESHOLDS: dict[str, Threshold] = {t.name: t for t in [
    _T("fairness.selection_rate_ratio", "outside", band=(0.8, 1.25), kind="REG", no_effect=1.0,
       source="29 CFR 1607.4(D), the four-fifths rule read both ways (a screening heuristic "
              "here, with its significance and small-numbers caveats, not a legal verdict); "
              "Einstein Discovery's disparate-impact alert at 80%",
       description="Selection rate of one group divided by another's, every pair of groups "
                   "both ways"),
    _T("fairness.error_rate_ratio", "outside", band=(0.8, 1.25), kind="TOOL", no_effect=1.0,
       source="Aequitas default disparity tolerance tau = 0.8 (band 0.8 to 1/0.8)",
       description="FPR, FNR or precision of one group divided by another's, every pair of "
                   "groups both ways"),
    _T("fairness.regression_ratio", "outside", band=(0.8, 1.25), kind="HEUR", no_effect=1.0,
       source="By analogy with the selection-rate (29 CFR 1607.4(D)) and error-rate (Aequitas) "
              "bands: a screening heuristic, not a legal verdict",
       description="Regression models: mean prediction, or mean absolute error, of one group "
                   "divided by another's, every pair of groups both ways"),
    _T("fairness.proxy_association", "above", attention=0.5, kind="TOOL", no_effect=0.0,
       source="Einstein Discovery's proxy alert (more than 50% correlated); judged on "
              "bias-corrected Cramér's V",
       description="Association of a model input with a sensitive field"),
    _T("performance.generalisation_gap", "above", attention=0.05, kind="HEUR", no_effect=0.0,
       source="Product choice motivated by Yeom et al. 2018 (overfitting suffices for "
              "membership inference)",
       description="AUC on members minus AUC on non-members"),
    _T("performance.subgroup_drop", "above", attention=0.05, fail=0.10, kind="TOOL",
       no_effect=0.0,
       source="Giskard's performance-bias defaults (relative drop 5% / 10%)",
       description="Relative drop of a group's accuracy against the overall accuracy"),
    _T("privacy.membership_auc", "above", attention=0.55, fail=0.65, kind="TOOL",
       no_effect=0.5,
       source="SACRO-ML: mean AUC above 0.65 is disclosive; 0.55 attention bound HEUR",
       description="AUC of the strongest membership-inference attack"),
    _T("privacy.membership_tpr_low_fpr", "above", attention=5.0, fail=20.0, kind="HEUR",
       no_effect=1.0,
       source="After Carlini et al. 2022 (judge attacks at low false-positive rates): TPR/FPR "
              "5 attention, 20 fail, 100 'critical' (a word for the worst fail)",
       description="True-positive rate divided by the false-positive rate of the strongest "
                   "attack, at 0.1% FPR or, with fewer than 1,000 non-members in a split, at "
                   "the smallest FPR the rows resolve"),
    _T("privacy.attribute_inference", "above", attention=0.02, kind="HEUR", no_effect=0.0,
       source="THRESHOLDS.md: attention when the advantage or the member gap reaches 0.02 AUC, "
              "fail when both do; method Jayaraman & Evans 2022, SACRO-ML attribute attack",
       description="Attack AUC minus the no-model baseline's (on members); and that advantage "
                   "on members minus on non-members (the member gap)"),
    _T("privacy.personal_input", "above", fail=0.5, kind="REG", no_effect=0.0,
       source="GDPR Art. 5(1)(c) data minimisation; the severity is HEUR (THRESHOLDS.md)",
       description="A personal column (name, email, phone, id) used as a model input (1 = yes)"),
    _T("explainability.minimisation_cost", "below", attention=0.005, kind="HEUR",
       source="GDPR Art. 5(1)(c) data minimisation; the 0.005 AUC bound is a product choice",
       description="Holdout AUC lost when the input is removed and the model retrained (refit "
                   "variability included); a cost interval wholly below the bound means the "
                   "input can go"),
    _T("explainability.sensitive_driver_rank", "below", attention=10, kind="HEUR",
       source="THRESHOLDS.md: a sensitive input (Einstein guidance) or a proxy (Einstein "
              "Discovery's proxy alert) among the top-10 drivers, judged on the rank interval; "
              "escalated to fail by the runner when a fairness check on its field fails",
       description="Rank of the input among the model's drivers by mean absolute SHAP value "
                   "(attention when the whole rank interval lies within the top 10, pass when "
                   "it lies wholly outside)"),
    _T("privacy.memorisation_share", "above", attention=0.01, kind="HEUR", no_effect=0.0,
       source="After Feldman & Zhang 2020; bounds relative to the noise floor (IN/OUT labels "
              "shuffled): no effect = the floor, attention = floor + 1 point",
       description="Share of records with memorisation >= 0.75 (the recipe gets them right "
                   "mostly only when trained on them), above the noise floor; the profile's "
                   "bound is added to the floor the audit estimates"),
    _T("fairness.sensitive_input", "above", attention=0.5, kind="TOOL", no_effect=0.0,
       source="Einstein Discovery guidance on sensitive fields; GDPR Art. 9 and 22(4) when "
              "decisions are solely automated",
       description="A sensitive field used directly as a model input (1 = yes): a justification "
                   "is required"),
    _T("explainability.stability", "below", attention=0.7, kind="HEUR",
       source="Product choice; no published threshold found",
       description="LIME top-5 overlap over seeds, and top-5 feature and sign agreement with "
                   "SHAP (Krishna et al. 2022), each averaged over a random sample of at least "
                   "30 customers (attention when the interval lies wholly below)"),
    _T("holdout.exchangeability", "above", fail=0.55, kind="HEUR", no_effect=0.5,
       source="THRESHOLDS.md preconditions; a classifier two-sample test (Lopez-Paz & Oquab "
              "2017), as in adversarial validation",
       description="AUC of a classifier that sees no model (inputs and label only, cross-"
                   "fitted) telling the training rows from the holdout rows; when its interval "
                   "lies wholly above the bound, membership and memorisation are not assessed"),
    _T("data.inventory", "above", attention=0.5, kind="REG", no_effect=0.0,
       source="GDPR Art. 5(1)(b) purpose limitation and Art. 6(1) lawful basis; third-party data "
              "used for profiling also engages Art. 14 (information) and Art. 21 (objection). "
              "Severity HEUR",
       description="A model input without a recorded purpose or legal basis, or a third-party "
                   "broker input used to profile people (1 = yes)"),
    _T("privacy.reidentification_unique_share", "above", attention=0.05, fail=0.20, kind="HEUR",
       no_effect=0.0,
       source="After Sweeney 2002 (k-anonymity)",
       description="Share of records unique on the quasi-identifiers"),
    _T("data.consent_missing", "above", fail=0.0, kind="REG",
       source="GDPR Art. 6(1)(a) and 7: consent is valid only for the specific purposes it was "
              "given for; Art. 5(1)(b) purpose limitation. Judged on the exact count of the rows "
              "held (a census): any row fails",
       description="Share of training rows whose consent does not cover the model's purpose"),
    _T("data.retention_exceeded", "above", fail=0.0, kind="REG",
       source="GDPR Art. 5(1)(e) storage limitation, against the retention the feature "
              "inventory states; judged on the exact count: any row fails",
       description="Share of training rows older than the retention of their data"),
    _T("data.shadow_profiles", "above", attention=0.0, kind="REG",
       source="GDPR Art. 14 (information where data was not obtained from the person) and "
              "Art. 21 (objection to profiling); the severity is HEUR: any such customer needs "
              "attention",
       description="Share of training customers known only through third-party or broker data"),
    _T("data.opt_out_scored", "above", fail=0.0, kind="REG",
       source="GDPR Art. 22(1) (automated decisions) and Art. 21(2) (objection to profiling "
              "for direct marketing); judged on the exact count: any customer fails",
       description="Share of holdout customers who opted out of automated decisions but are "
                   "scored"),
    _T("data.opt_out_trained", "above", fail=0.0, kind="REG",
       source="GDPR Art. 21 (objection), where the opt-out covers training; judged on the "
              "exact count: any row fails",
       description="Share of training rows of customers whose opt-out covers training"),
    _T("data.erased_in_data", "above", fail=0.0, kind="REG",
       source="GDPR Art. 17(1) right to erasure; judged on the exact count: any erased "
              "customer still in the data fails",
       description="Share of erasure requests whose customer is still in the training or "
                   "holdout rows"),
    _T("privacy.erasure_exposure", "above", attention=0.55, fail=0.65, kind="TOOL",
       no_effect=0.5,
       source="SACRO-ML's membership bounds (AUC above 0.65 is disclosive; 0.55 attention HEUR) "
              "applied to the erased customers, as in unlearning verification by membership "
              "inference (Chen et al. 2021; Hayes et al. 2024); EDPB Opinion 28/2024 on when a "
              "model trained on personal data holds it",
       description="AUC of the strongest membership attack telling the erased customers still "
                   "in the training rows from customers the model never saw"),
]}


def _param(default, doc: str, *, low=None, high=None, choices=None):
    """An AuditConfig parameter with its meaning and its valid range (read by the profile's
    validation and by the documentation)."""
    meta = {"doc": doc, "low": low, "high": high, "choices": choices}
    if isinstance(default, (dict, list)):
        return field(default_factory=lambda: type(default)(default), metadata=meta)
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class AuditConfig:
    """Thresholds and parameters of one audit: everything that decides a result.

    Every field is in the profile's hash and so in the report cache's key; each field's meaning
    and valid range are in its metadata (``dataclasses.fields(AuditConfig)``). The constants that
    define a method itself (LiRA's clipping epsilon, RMIA's gamma) are part of the tool's version,
    which the cache key also holds.
    """

    name: str = "default"
    thresholds: dict[str, Threshold] = field(default_factory=lambda: dict(DEFAULT_THRESHOLDS))
    # -- resampling and groups
    n_bootstrap: int = _param(1000, "bootstrap replicates behind every confidence interval",
                              low=50, high=100_000)
    confidence: float = _param(0.95, "confidence level of the intervals", low=0.5, high=1.0)
    min_group_size: int = _param(30, "groups smaller than this are not assessed", low=2,
                                 high=1_000_000)
    suppress_below: int = _param(10, "counts under this are never printed (small cells "
                                 "identify people)", low=0, high=1_000_000)
    n_jobs: int | None = _param(None, "workers of the parallel map (None: all cores); changes "
                                "no result", low=1, high=1024)
    partition_rows: int = _param(2_000_000, "inputs with more rows than this (members and "
                                 "holdout together) are read partition by partition, below it "
                                 "whole; either path gives the same result", low=0,
                                 high=10**12)
    sample_rows: int = _param(400_000, "most rows per part the sampled parts of the audit read "
                              "(a keyed-hash sample; counts always cover every row)", low=1000,
                              high=10**9)
    age_bands: tuple[float, ...] = _param((18, 25, 35, 45, 55, 65), "edges that band numeric "
                                          "sensitive fields such as age")
    # -- fairness
    intersections: bool = _param(True, "also audit intersections of two sensitive fields")
    fairness_part: str = _param("nonmembers", "the rows fairness is judged on",
                                choices=("nonmembers", "members"))
    reference_groups: dict = _param({}, "field -> the reference group its disparities are "
                                    "compared with (default: the probe's own choice)")
    whatif: bool = _param(True, "also compute the mitigation what-if scenario")
    proxy_models: bool = _param(True, "the proxy screen also fits the all-inputs model")
    # -- explainability
    n_explain: int = _param(2000, "holdout customers explained with SHAP (tree and linear "
                            "models)", low=10, high=1_000_000)
    n_agnostic: int = _param(300, "holdout customers explained with the model-agnostic "
                             "explainer", low=10, high=100_000)
    shap_tree_budget: float = _param(2.5e10, "TreeSHAP cost budget (rows x trees x leaves x "
                                     "depth) that caps the explained rows of large forests",
                                     low=1e6, high=1e14)
    n_lime_seeds: int = _param(10, "LIME runs per explained customer (stability)", low=2,
                               high=100)
    lime_samples: int = _param(1000, "LIME's perturbation budget per run", low=100,
                               high=100_000)
    n_lime_customers: int = _param(30, "holdout customers drawn at random to judge LIME's "
                                   "stability and agreement with SHAP", low=30, high=100_000)
    top_k: int = _param(5, "k of the top-k feature agreement and stability", low=1, high=50)
    minimise: bool = _param(True, "measure the cost of dropping personal, sensitive and proxy "
                            "inputs (refits the model)")
    minimise_seeds: int = _param(3, "refits with and without an input, each with its own "
                                 "seed, for a randomised estimator (refit variability in the "
                                 "cost interval)", low=1, high=50)
    explain_records: tuple[str, ...] = _param((), "customers explained locally (pseudonyms); "
                                              "empty: the highest, lowest and middle score")
    # -- privacy
    n_reference_models: int = _param(8, "K, the size of the reference-model pool", low=2,
                                     high=256)
    pool_population_share: float = _param(0.25, "share of the holdout kept as RMIA's population",
                                          low=0.01, high=0.9)
    pool_population_max: int = _param(5000, "most population records", low=10, high=1_000_000)
    pool_max_targets: int = _param(60_000, "most target records of the membership attacks",
                                   low=100, high=10_000_000)
    member_share: float = _param(0.10, "the realistic share of training customers among those "
                                 "an attacker tests (precision of 'member' claims)", low=1e-4,
                                 high=0.9999)
    critical_ratio: float = _param(100.0, "TPR/FPR of the strongest attack at the low FPR "
                                   "from which a failing membership leak is called critical",
                                   low=1.0, high=1e6)
    memorisation_level: float = _param(0.75, "a record is highly memorised when its "
                                       "memorisation score is at least this", low=0.0, high=1.0)
    memorisation_shuffles: int = _param(50, "shuffles of the pool's IN/OUT labels behind the "
                                        "memorisation noise floor", low=5, high=10_000)
    reference_max_rows: int = _param(200_000, "most training rows of a reference model (each "
                                     "gets as many as the audited model, up to this and to "
                                     "half the pool)", low=100, high=100_000_000)
    exchangeability_max_rows: int = _param(5000, "most rows per file (training, holdout) "
                                           "behind the holdout's exchangeability check",
                                           low=200, high=10_000_000)
    exchangeability_folds: int = _param(3, "cross-fitting folds of the exchangeability "
                                        "check's classifier", low=2, high=20)
    n_top_records: int = _param(20, "most exposed and most memorised customers listed", low=0,
                                high=10_000)
    n_canaries: int = _param(50, "canary records of the one-run audit", low=10, high=100_000)
    min_leaf_size: int = _param(5, "tree leaves with fewer training rows describe a handful "
                                "of people (SACRO-ML)", low=1, high=1_000_000)
    attribute_max_rows: int = _param(5000, "rows per part of the attribute-inference attack",
                                     low=100, high=10_000_000)
    attribute_max_candidates: int = _param(10, "most candidate values of a sensitive field in "
                                           "model inversion", low=2, high=1000)

    def __post_init__(self) -> None:
        if not 0.5 < self.confidence < 1:
            raise InputError(f"confidence is {self.confidence}; it must lie between 0.5 and 1.")
        if self.n_bootstrap < 50:
            raise InputError(f"n_bootstrap is {self.n_bootstrap}; use at least 50 replicates.")
        object.__setattr__(self, "age_bands", tuple(float(a) for a in self.age_bands))
        object.__setattr__(self, "explain_records", tuple(str(r) for r in self.explain_records))
        object.__setattr__(self, "reference_groups",
                           {str(k): str(v) for k, v in dict(self.reference_groups).items()})

    @classmethod
    def light(cls) -> "AuditConfig":
        """The light profile for tests that do not check planted effects and for quick looks:
        200 bootstrap replicates, K = 4 reference models, and LIME over 5 seeds of 500 samples
        (on each of the sample's customers). Intervals are wider and noisier."""
        return cls(name="light", n_bootstrap=200, n_reference_models=4, n_lime_seeds=5,
                   lime_samples=500)

    def threshold(self, name: str) -> Threshold:
        try:
            return self.thresholds[name]
        except KeyError:
            raise KeyError(f"No threshold {name!r} in profile {self.name!r}; "
                           f"known: {sorted(self.thresholds)}.") from None

    def to_dict(self) -> dict:
        d = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        d["thresholds"] = {k: v.to_dict() for k, v in sorted(self.thresholds.items())}
        d["age_bands"] = list(self.age_bands)
        d["explain_records"] = list(self.explain_records)
        d["reference_groups"] = dict(sorted(self.reference_groups.items()))
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "AuditConfig":
        d = dict(d)
        d["thresholds"] = {k: Threshold.from_dict(v) for k, v in d["thresholds"].items()}
        d["age_bands"] = tuple(d["age_bands"])
        d["explain_records"] = tuple(d.get("explain_records", ()))
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known})

    @property
    def profile_hash(self) -> str:
        """SHA-256 of the profile's canonical JSON (n_jobs and partition_rows excluded: they
        change no result)."""
        d = self.to_dict()
        d.pop("n_jobs")
        d.pop("partition_rows")
        blob = json.dumps(d, sort_keys=True, separators=(",", ":")).encode()
        return hashlib.sha256(blob).hexdigest()


def load_config(path: str | Path | None = None, *, base: AuditConfig | None = None) -> AuditConfig:
    """Read a TOML profile on top of ``base`` (the default profile when not given).

    The file is checked against a schema derived from ``AuditConfig`` and ``Threshold``
    (:mod:`audits.core.profile_schema`: types, ranges, unknown keys, bound order) before anything
    is built; every problem raises :class:`InputError` naming the file, the key and the fix.
    """
    from audits.core import messages as msg
    from audits.core.profile_schema import validate_profile

    base = base or AuditConfig()
    if path is None:
        return base
    path = Path(path)
    if not path.exists():
        raise InputError(msg.FILE_MISSING, what="threshold profile", path=path, field="config")
    if not path.is_file():
        raise InputError(msg.FILE_IS_FOLDER, what="threshold profile", path=path, field="config")
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise InputError(msg.PROFILE_NOT_TOML, path=path, error=e) from e
    validate_profile(doc, path, thresholds=base.thresholds)
    thresholds = dict(base.thresholds)
    for name, over in doc.get("thresholds", {}).items():
        fields_ = thresholds[name].to_dict() | over
        if fields_.get("band") is not None:
            fields_["band"] = list(fields_["band"])
        thresholds[name] = Threshold.from_dict(fields_)
    params = doc.get("params", {})
    return dataclasses.replace(base, name=doc.get("name", path.stem), thresholds=thresholds,
                               **params)
