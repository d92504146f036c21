"""Audit configuration: every threshold with its source, and the run's parameters.

The default profile reproduces ``THRESHOLDS.md``. A profile has a name and a hash (SHA-256 of its
canonical JSON), both printed on the report's cover. A TOML file overrides parameters and
thresholds::

    name = "our-board-2026"
    [params]
    n_bootstrap = 2000
    [thresholds."fairness.selection_rate_ratio"]
    fail = 0.9
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
    _T("fairness.selection_rate_ratio", "below", fail=0.8, kind="REG",
       source="29 CFR 1607.4(D), the four-fifths rule (a screening heuristic here, not a legal "
              "verdict); Einstein Discovery's disparate-impact alert at 80%",
       description="Selection rate of a group divided by that of the most favoured group"),
    _T("fairness.error_rate_ratio", "outside", band=(0.8, 1.25), kind="TOOL",
       source="Aequitas default disparity tolerance tau = 0.8 (band 0.8 to 1/0.8)",
       description="FPR, FNR or precision of a group divided by the reference group's"),
    _T("fairness.proxy_association", "above", attention=0.5, kind="TOOL",
       source="Einstein Discovery's proxy alert (more than 50% correlated); judged on "
              "bias-corrected Cramér's V",
       description="Association of a model input with a sensitive field"),
    _T("performance.generalisation_gap", "above", attention=0.05, kind="HEUR",
       source="Product choice motivated by Yeom et al. 2018 (overfitting suffices for "
              "membership inference)",
       description="AUC on members minus AUC on non-members"),
    _T("performance.subgroup_drop", "above", attention=0.05, fail=0.10, kind="TOOL",
       source="Giskard's performance-bias defaults (relative drop 5% / 10%)",
       description="Relative drop of a group's accuracy against the overall accuracy"),
    _T("privacy.membership_auc", "above", attention=0.55, fail=0.65, kind="TOOL",
       source="SACRO-ML: mean AUC above 0.65 is disclosive; 0.55 attention bound HEUR",
       description="AUC of the strongest membership-inference attack"),
    _T("privacy.membership_tpr_low_fpr", "above", attention=0.005, fail=0.02, kind="HEUR",
       source="After Carlini et al. 2022 (judge attacks at low false-positive rates); "
              "critical from 10%",
       description="True-positive rate of the strongest attack at 0.1% false-positive rate"),
    _T("privacy.attribute_inference", "above", attention=0.0, kind="HEUR",
       source="THRESHOLDS.md: attention when the attack is significantly above the no-model "
              "baseline or members significantly above non-members, fail when both; method "
              "Jayaraman & Evans 2022, SACRO-ML attribute attack",
       description="AUC advantage of the attack over the no-model baseline on members, and "
                   "attack AUC on members minus non-members"),
    _T("privacy.personal_input", "above", fail=0.5, kind="REG",
       source="GDPR Art. 5(1)(c) data minimisation; the severity is HEUR (THRESHOLDS.md)",
       description="A personal column (name, email, phone, id) used as a model input (1 = yes)"),
    _T("explainability.minimisation_cost", "below", attention=0.005, kind="HEUR",
       source="GDPR Art. 5(1)(c) data minimisation; the 0.005 AUC bound is a product choice",
       description="Holdout AUC lost when the input is removed and the model retrained; a "
                   "cost not measurably above 0, or below the bound, means the input can go"),
    _T("explainability.sensitive_driver_rank", "below", attention=10, kind="HEUR",
       source="THRESHOLDS.md: a sensitive input (Einstein guidance) or a proxy (Einstein "
              "Discovery's proxy alert) among the top-10 drivers; escalated to fail by the "
              "runner when a fairness check on its field fails",
       description="Rank of the input among the model's drivers by mean absolute SHAP value"),
    _T("privacy.memorisation_share", "above", attention=0.01, kind="HEUR",
       source="Product choice after Feldman & Zhang 2020 (a record is highly memorised "
              "when mem > 0.5)",
       description="Share of records that the training recipe gets right mostly only when "
                   "trained on them"),
    _T("fairness.sensitive_input", "above", attention=0.5, kind="TOOL",
       source="Einstein Discovery guidance on sensitive fields; GDPR Art. 9 and 22(4) when "
              "decisions are solely automated",
       description="A sensitive field used directly as a model input (1 = yes): a justification "
                   "is required"),
    _T("explainability.stability", "below", attention=0.7, kind="HEUR",
       source="Product choice; no published threshold found",
       description="LIME top-k Jaccard overlap over seeds, and rank agreement with SHAP"),
    _T("privacy.reidentification_unique_share", "above", attention=0.05, fail=0.20, kind="HEUR",
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
       source="SACRO-ML's membership bounds (AUC above 0.65 is disclosive; 0.55 attention HEUR) "
              "applied to the erased customers, as in unlearning verification by membership "
              "inference (Chen et al. 2021; Hayes et al. 2024); EDPB Opinion 28/2024 on when a "
              "model trained on personal data holds it",
       description="AUC of the strongest membership attack telling the erased customers still "
                   "in the training rows from customers the model never saw"),
]}


@dataclass(frozen=True)
class AuditConfig:
    """Thresholds and parameters of one audit.

    Parameters
    ----------
    name : profile name, printed on the report's cover.
    thresholds : threshold name -> Threshold, each with its source.
    n_bootstrap : bootstrap replicates behind every confidence interval.
    confidence : confidence level of the intervals.
    min_group_size : groups smaller than this are ``not_assessed`` ("too small to judge").
    suppress_below : counts under this are never printed (small cells identify people).
    n_reference_models : K, the size of the reference-model pool of the privacy attacks.
    n_jobs : workers of the parallel map (None: all cores).
    age_bands : edges used to band numeric sensitive fields such as age.
    intersections : also audit intersections of two sensitive fields.
    """

    name: str = "default"
    thresholds: dict[str, Threshold] = field(default_factory=lambda: dict(DEFAULT_THRESHOLDS))
    n_bootstrap: int = 1000
    confidence: float = 0.95
    min_group_size: int = 30
    suppress_below: int = 10
    n_reference_models: int = 8
    n_jobs: int | None = None
    age_bands: tuple[float, ...] = (18, 25, 35, 45, 55, 65)
    intersections: bool = True

    def __post_init__(self) -> None:
        if not 0.5 < self.confidence < 1:
            raise InputError(f"confidence is {self.confidence}; it must lie between 0.5 and 1.")
        if self.n_bootstrap < 50:
            raise InputError(f"n_bootstrap is {self.n_bootstrap}; use at least 50 replicates.")
        object.__setattr__(self, "age_bands", tuple(float(a) for a in self.age_bands))

    @classmethod
    def light(cls) -> "AuditConfig":
        """The light profile for tests that do not check planted effects and for quick looks:
        200 bootstrap replicates and K = 4 reference models. Intervals are wider and noisier."""
        return cls(name="light", n_bootstrap=200, n_reference_models=4)

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
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "AuditConfig":
        d = dict(d)
        d["thresholds"] = {k: Threshold.from_dict(v) for k, v in d["thresholds"].items()}
        d["age_bands"] = tuple(d["age_bands"])
        return cls(**d)

    @property
    def profile_hash(self) -> str:
        """SHA-256 of the profile's canonical JSON (n_jobs excluded: it changes no result)."""
        d = self.to_dict()
        d.pop("n_jobs")
        blob = json.dumps(d, sort_keys=True, separators=(",", ":")).encode()
        return hashlib.sha256(blob).hexdigest()


_PARAMS = {f.name for f in dataclasses.fields(AuditConfig)} - {"thresholds", "name"}


def load_config(path: str | Path | None = None, *, base: AuditConfig | None = None) -> AuditConfig:
    """Read a TOML profile on top of ``base`` (the default profile when not given)."""
    base = base or AuditConfig()
    if path is None:
        return base
    path = Path(path)
    if not path.is_file():
        raise InputError(f"The threshold profile {path} does not exist. Check --config.")
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise InputError(f"The threshold profile {path} is not valid TOML: {e}. "
                         "Fix the file or leave out --config for the default profile.") from e
    params = doc.get("params", {})
    unknown = set(params) - _PARAMS
    if unknown:
        raise InputError(f"The threshold profile {path} sets unknown parameters {sorted(unknown)}; "
                         f"valid parameters: {sorted(_PARAMS)}.")
    thresholds = dict(base.thresholds)
    for name, over in doc.get("thresholds", {}).items():
        if name not in thresholds:
            raise InputError(f"The threshold profile {path} names unknown threshold {name!r}; "
                             f"valid thresholds: {sorted(thresholds)}.")
        fields_ = thresholds[name].to_dict() | over
        if fields_.get("band") is not None:
            fields_["band"] = list(fields_["band"])
        thresholds[name] = Threshold.from_dict(fields_)
    return dataclasses.replace(base, name=doc.get("name", path.stem), thresholds=thresholds,
                               **params)
