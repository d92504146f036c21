"""Suggest the roles of a data file's columns, each suggestion with the reason it was made.

The Load page pre-selects these suggestions; the user confirms or changes them. Nothing here
decides: a suggestion is a prompt to look, with its evidence ("name matches 'gender'", "values look
like ethnic groups").

- Sensitive fields (:func:`suggest_sensitive`): the special categories of personal data of GDPR Art.
  9(1) (racial or ethnic origin, political opinions, religious or philosophical beliefs, trade-union
  membership, genetic and biometric data, health, sex life or sexual orientation), criminal
  convictions (Art. 10), and the characteristics equality law protects and a fairness audit compares
  groups on (age, sex/gender, disability, marital status, pregnancy and parenthood, nationality:
  e.g. the protected characteristics of the UK Equality Act 2010, s. 4). A column is suggested by
  its name (a word of the name, camelCase and separators split, matches a term) or by its values (at
  least ``min_share`` of up to ``sample_size`` sampled text values fall in a vocabulary: sexes,
  ethnic groups, religions, marital statuses, nationalities, age bands). Numeric columns are judged
  by name only, so amounts and counts are never suggested from their values. The idea follows
  Salesforce's Einstein Discovery, where the modeller flags variables such as race, gender,
  religion, national origin, sexual orientation, disability or age as sensitive in the model's setup
  ("Analyze for Bias"), after which disparate-impact and proxy-variable checks run on them
  (Salesforce Help, "Detect and Remove Bias from a Model"); here the flags are pre-filled from names
  and values, for the user to confirm.
- Personal columns (:func:`suggest_personal`): :func:`audits.core.pii.detect_personal_columns`, its
  evidence as the reason.
- Quasi-identifiers (:func:`suggest_quasi_identifiers`): age, gender, postcode or date of birth
  (:func:`audits.core.pii.default_quasi_identifiers`, the audit's own default), and by a word of
  the name the other attributes that re-identification studies count among the usual
  quasi-identifiers: where a person lives (country, region, city) and what they do (job, job
  level or title, occupation, profession, seniority). Sweeney 2002 singles people out with ZIP
  code, birth date and sex; the HIPAA expert-determination guidance (HHS 2012, section 2.3) and
  El Emam's catalogue of quasi-identifiers (El Emam & Arbuckle 2013, "Anonymizing Health Data",
  ch. 3) add geography below the state and occupation. A B2B lead's country and job level
  single a contact out among a company's few contacts.
- The target and its positive label (:func:`suggest_target`, :func:`suggest_positive_label`), and
  the column that splits one data file into training and holdout rows
  (:func:`suggest_split_column`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import pandas as pd

from audits.core.pii import default_quasi_identifiers, detect_personal_columns

__all__ = ["FieldSuggestion", "suggest_sensitive", "suggest_personal", "suggest_quasi_identifiers",
           "suggest_target", "suggest_positive_label", "suggest_split_column", "name_words"]


@dataclass(frozen=True)
class FieldSuggestion:
    """A column suggested for a role, how it was found (``"name"`` or ``"values"``) and why."""

    column: str
    reason: str
    by: str = "name"

    def to_dict(self) -> dict:
        return {"column": self.column, "reason": self.reason, "by": self.by}


# (category, terms matched against a whole word of the column name; a term ending in "*" matches
# a word's beginning). Checked in order; the first match gives the reason.
_NAME_TERMS = (
    ("sex or gender", ("gender", "sex", "genders")),
    ("racial or ethnic origin", ("ethnicity", "ethnic*", "race", "racial")),
    ("religion or belief", ("religion*", "religious", "faith", "belief*", "denomination")),
    ("age", ("age", "dob", "birthdate", "birthday", "birthyear", "yob", "agegroup", "ageband")),
    ("disability", ("disab*", "handicap*", "impairment*", "wheelchair")),
    ("nationality", ("nationality", "nationalities", "citizenship", "immigration",
                     "immigrant", "migrant")),
    ("marital status", ("marital", "married", "spouse", "widowed", "divorced")),
    ("pregnancy or parenthood", ("pregnan*", "expecting", "maternity", "paternity",
                                 "newborn", "prenatal", "antenatal")),
    ("health", ("health", "medical", "diagnosis", "disease*", "illness*", "medication*",
                "prescription*", "symptom*", "bmi", "hiv", "mental", "clinical")),
    ("sexual orientation", ("orientation", "sexuality", "lgbt*", "lgbtq*")),
    ("trade-union membership", ("union", "unionised", "unionized")),
    ("political opinion", ("political", "politics", "party_affiliation", "voting", "voter")),
    ("genetic or biometric data", ("genetic*", "genome", "dna", "biometric*", "fingerprint*",
                                   "faceprint")),
    ("criminal convictions", ("criminal", "conviction*", "offence*", "offense*")),
)
# two-word names (the words as they follow each other in the column name)
_NAME_PHRASES = (("age", ("date", "of", "birth")), ("age", ("year", "of", "birth")),
                 ("nationality", ("country", "of", "birth")),
                 ("nationality", ("birth", "country")),
                 ("religion or belief", ("place", "of", "worship")))

_GENDER = {"male", "female", "m", "f", "man", "woman", "men", "women", "non-binary",
           "nonbinary", "non binary", "other", "unknown", "prefer not to say", "x", "diverse",
           "transgender", "trans"}
_GENDER_CORE = {"male", "female", "m", "f", "man", "woman", "men", "women"}
_ETHNIC_WORDS = {"white", "black", "asian", "mixed", "hispanic", "latino", "latina", "latinx",
                 "chinese", "indian", "pakistani", "bangladeshi", "african", "caribbean", "arab",
                 "caucasian", "multiracial", "multiple", "other", "british", "irish", "gypsy",
                 "traveller", "roma", "indigenous", "aboriginal", "native", "pacific",
                 "islander", "hawaiian", "alaska", "american", "eastern", "middle", "ethnic",
                 "groups", "group", "background", "any", "or", "and"}
_ETHNIC_SPECIFIC = {"asian", "mixed", "hispanic", "latino", "latina", "latinx", "chinese",
                    "indian", "pakistani", "bangladeshi", "african", "caribbean", "arab",
                    "caucasian", "multiracial", "gypsy", "traveller", "roma", "indigenous",
                    "aboriginal", "islander"}
_RELIGIONS = {"christian", "christianity", "muslim", "islam", "jewish", "judaism", "hindu",
              "hinduism", "buddhist", "buddhism", "sikh", "sikhism", "atheist", "agnostic",
              "catholic", "protestant", "orthodox", "no religion", "none", "other",
              "prefer not to say", "jain", "baha'i", "shinto", "taoist", "humanist"}
_MARITAL = {"single", "married", "divorced", "widowed", "separated", "civil partnership",
            "civil partner", "cohabiting", "partnered", "in a relationship", "engaged",
            "domestic partnership", "never married", "unknown", "other", "widow", "widower"}
_NATIONALITIES = {"british", "english", "scottish", "welsh", "irish", "french", "german",
                  "spanish", "italian", "portuguese", "dutch", "belgian", "polish", "romanian",
                  "bulgarian", "greek", "swedish", "danish", "norwegian", "finnish", "austrian",
                  "swiss", "czech", "hungarian", "american", "canadian", "mexican", "brazilian",
                  "argentinian", "chinese", "japanese", "korean", "indian", "pakistani",
                  "bangladeshi", "nigerian", "ghanaian", "kenyan", "south african", "egyptian",
                  "moroccan", "turkish", "russian", "ukrainian", "australian", "filipino",
                  "vietnamese", "other"}
_AGE_BAND = re.compile(r"^(\d{1,3})\s*(?:-|–|to)\s*(\d{1,3})$|^(\d{1,3})\s*\+$|"
                       r"^(?:under|over|below|above)\s*(\d{1,3})$|^(\d{1,3})\s*(?:and|or)\s*"
                       r"(?:over|above|older|under)$")
_TARGET_WORDS = ("target", "label", "outcome", "churn*", "churned", "convert*", "purchas*",
                 "respon*", "default*", "fraud*", "won", "win", "bought", "subscribed", "y",
                 "class", "clicked", "accepted", "cancel*", "attrition", "renew*")


def name_words(name: Any) -> list[str]:
    """The lower-case words of a column name (camelCase and any separator split)."""
    camel = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", str(name))
    return [w for w in re.split(r"[^a-z0-9]+", camel.lower()) if w]


def _term_match(word: str, term: str) -> bool:
    return word.startswith(term[:-1]) if term.endswith("*") else word == term


def _by_name(name: Any) -> tuple[str, str] | None:
    """(category, the matched word) when a word of the name is a sensitive term."""
    words = name_words(name)
    joined = "_".join(words)
    for category, phrase in _NAME_PHRASES:
        if "_".join(phrase) in joined:
            return category, " ".join(phrase)
    for category, terms in _NAME_TERMS:
        for term in terms:
            if "_" in term:
                if term in joined:
                    return category, term.replace("_", " ")
                continue
            for w in words:
                if _term_match(w, term):
                    return category, w
    return None


def _is_age_band(value: str) -> bool:
    m = _AGE_BAND.match(value)
    if not m:
        return False
    numbers = [int(g) for g in m.groups() if g is not None]
    if not all(12 <= n <= 110 for n in numbers):
        return False
    return len(numbers) == 1 or 0 < numbers[1] - numbers[0] <= 20


def _words_in(value: str, vocabulary: set[str]) -> bool:
    words = [w for w in re.split(r"[^a-z']+", value) if w]
    return bool(words) and all(w in vocabulary for w in words)


def _by_values(values: pd.Series, min_share: float) -> str | None:
    """What the sampled text values look like, when ``min_share`` of them fit one vocabulary."""
    v = values.astype(str).str.strip().str.lower()
    distinct = set(v)
    if len(v) == 0 or len(distinct) < 2:
        return None

    def share(test) -> float:
        return float(np.mean([test(x) for x in v]))

    if share(lambda x: x in _GENDER) >= min_share and len(distinct & _GENDER_CORE) >= 2:
        return "values look like sexes or genders (such as male and female)"
    ethnic = [x for x in distinct if _words_in(x, _ETHNIC_WORDS)]
    specific = {w for x in ethnic for w in re.split(r"[^a-z']+", x)} & _ETHNIC_SPECIFIC
    if share(lambda x: _words_in(x, _ETHNIC_WORDS)) >= min_share and len(ethnic) >= 2 \
            and specific:
        return "values look like ethnic groups"
    named = {"religions": _RELIGIONS, "marital statuses": _MARITAL,
             "nationalities": _NATIONALITIES}
    for what, vocabulary in named.items():
        core = distinct & vocabulary - {"other", "none", "unknown", "prefer not to say"}
        if share(lambda x, voc=vocabulary: x in voc) >= min_share and len(core) >= 2:
            return f"values look like {what}"
    if share(_is_age_band) >= min_share:
        return "values look like age bands"
    return None


def suggest_sensitive(frame: pd.DataFrame, *, exclude: Sequence[str] = (), sample_size: int = 500,
                      min_share: float = 0.8, random_state: int = 0) -> list[FieldSuggestion]:
    """Columns of ``frame`` that look like sensitive fields, in column order, each with a reason.

    Parameters
    ----------
    frame : the data (members, or any rows with the same columns).
    exclude : columns never to suggest (the target, direct identifiers).
    sample_size : text values sampled per column for the value checks.
    min_share : share of the sampled values that must fit a vocabulary.
    random_state : seed of the sampling.

    Returns
    -------
    list of FieldSuggestion
        ``by="name"`` with the reason "name matches '<word>' (<category>)", or ``by="values"``
        with what the values look like. A column matching both is reported by name.
    """
    rng = np.random.default_rng(random_state)
    out = []
    for column in frame.columns:
        if column in exclude:
            continue
        named = _by_name(column)
        if named is not None:
            out.append(FieldSuggestion(str(column), f"name matches '{named[1]}' ({named[0]})"))
            continue
        col = frame[column]
        if pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col):
            continue
        present = col.dropna()
        if len(present) == 0:
            continue
        take = rng.choice(len(present), size=min(sample_size, len(present)), replace=False)
        reason = _by_values(present.iloc[np.sort(take)], min_share)
        if reason is not None:
            out.append(FieldSuggestion(str(column), reason, by="values"))
    return out


def suggest_personal(frame: pd.DataFrame, *, random_state: int = 0) -> list[FieldSuggestion]:
    """Direct identifiers (:func:`audits.core.pii.detect_personal_columns`), its evidence the
    reason."""
    found = detect_personal_columns(frame, random_state=random_state)
    return [FieldSuggestion(row.column, row.evidence, by="values" if row.by_content else "name")
            for row in found.itertuples()]


# (what it is, words of the column name): location and occupation quasi-identifiers
_QI_TERMS = (
    ("where the person lives", ("country", "region", "city", "town", "county", "province",
                                "district", "municipality", "residence", "locality")),
    ("what the person does", ("job", "occupation", "profession", "seniority", "jobtitle",
                              "joblevel", "position")),
)


def _qi_by_name(name: Any) -> tuple[str, str] | None:
    for what, terms in _QI_TERMS:
        for w in name_words(name):
            if w in terms:
                return what, w
    return None


def suggest_quasi_identifiers(columns: Sequence[str], *, exclude: Sequence[str] = ()
                              ) -> list[FieldSuggestion]:
    """Quasi-identifiers in column order: the audit's defaults (age, gender, postcode, date of
    birth), then columns whose name says where the person lives or what they do.

    Returns
    -------
    list of FieldSuggestion
        Each with its reason: "a default quasi-identifier (...)" or "name matches 'country'
        (where the person lives)".
    """
    defaults = set(default_quasi_identifiers(list(columns), exclude=exclude))
    out = []
    for c in columns:
        if c in exclude:
            continue
        if c in defaults:
            out.append(FieldSuggestion(str(c), "a default quasi-identifier (age, gender, "
                                       "postcode or date of birth: together they can single a "
                                       "person out, Sweeney 2002)"))  # the audit's own words
            continue
        found = _qi_by_name(c)
        if found is not None:
            out.append(FieldSuggestion(str(c), f"name matches '{found[1]}' ({found[0]})"))
    return out


def suggest_target(frame: pd.DataFrame, *, exclude: Sequence[str] = ()) -> str | None:
    """The likeliest target: a two-valued column named like an outcome, else the last two-valued
    column, else None."""
    binary = [c for c in frame.columns if c not in exclude and frame[c].nunique(dropna=True) == 2]
    for c in binary:
        if any(_term_match(w, t) for w in name_words(c) for t in _TARGET_WORDS):
            return str(c)
    return str(binary[-1]) if binary else None


_SPLIT_WORDS = ("split", "set", "partition", "subset", "fold", "is_train", "train", "holdout",
                "member", "in_training")
_SPLIT_VALUES = {"train", "member", "members", "1", "true", "in", "test", "holdout", "nonmember",
                 "non-member", "nonmembers", "0", "false", "out", "valid", "validation"}


def suggest_split_column(frame: pd.DataFrame) -> str | None:
    """The column that marks training and holdout rows (the values
    ``audits.core.loading.load_subject`` accepts for ``split_column``): a two-valued column named
    like a
    split, else the first whose values are train/test words, else None."""
    pairs = [c for c in frame.columns if frame[c].nunique(dropna=True) == 2]
    for c in pairs:
        words = name_words(c)
        if any(w in _SPLIT_WORDS for w in words) or "_".join(words) in _SPLIT_WORDS:
            return str(c)
    for c in pairs:
        values = {str(v).strip().lower() for v in frame[c].dropna().unique()}
        if values <= _SPLIT_VALUES and not values <= {"0", "1", "true", "false"}:
            return str(c)
    return None


def suggest_positive_label(values: Sequence[Any]) -> Any:
    """The class whose probability is the score: 1/true/yes/positive if present, else the last
    value in sorted order (scikit-learn's ``classes_[1]``)."""
    values = list(values)
    if not values:
        return None
    for v in values:
        if str(v).strip().lower() in {"1", "1.0", "true", "yes", "y", "positive"}:
            return v
    try:
        return sorted(values)[-1]
    except TypeError:
        return sorted(values, key=str)[-1]
