"""Personal-column detection: which columns hold direct identifiers, found by name and by content.

Shared by every probe that must redact or judge personal data; :func:`personal_columns` runs the
detection once per audit (through the run's cache) and merges the user's declared
personal columns.

Kinds and how each is recognised (``detect_personal_columns``):

- ``email``: name matches ``e-mail``; content: the whole value is an address (``local@domain.tld``),
  or, in free text, at least 10% of the values contain one.
- ``phone``: name matches phone/mobile/tel/fax; content: international form (``+`` and 8 to 15
  digits) or a national form with separators (``020 7946 0000``, ``(555) 123-4567``). A bare run
  of digits is not taken for a phone number (ids and amounts look the same).
- ``person_name``: name matches first/last/full/contact/customer name; content: two or three
  capitalised words (or ``Last, First``) and, for at least ``FIRST_NAME_SHARE`` of them, a first
  word found in a short list of common first names, which keeps product and company names out.
- ``id``: name matches customer/record/lead/... id, uuid, ...; content: almost every value distinct
  (>= 95%) and, without an id-like name, 90% of the sampled strings shaped like an id (a short
  letter prefix and digits, digit groups, a UUID or a long hex string; dates are not ids).
  Integers without an id-like name are not taken for ids (counts and amounts can be distinct).
- ``ip_address``: name matches ``ip``/``ip_address``; content: valid IPv4 or IPv6 addresses.
- ``card_number``: name matches card number / PAN; content: 13 to 19 digits (spaces or dashes
  allowed) passing the Luhn check (ISO/IEC 7812-1). Prices and random 16-digit numbers fail it
  (one random number in ten passes Luhn by chance, so a column needs ``min_share`` of them).
- ``company_name`` (a B2B contact's employer), ``address`` (street address) and ``national_id``
  (SSN, national insurance, passport): by name only.

A column is flagged by content when at least ``min_share`` of up to ``sample_size`` sampled
non-missing values match. The evidence describes, never quotes: "97% of 500 sampled values look
like email addresses". Column names are printed; values never are.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Sequence

import numpy as np
import pandas as pd

__all__ = ["default_quasi_identifiers", "detect_personal_columns", "personal_columns",
           "personal_column_names", "luhn_valid",
           "COLUMNS"]

COLUMNS = ["column", "kind", "by_name", "by_content", "declared", "content_share", "n_sampled",
           "evidence"]
FIRST_NAME_SHARE = 0.3

_NAME_PATTERNS = [  # (kind, pattern on the lower-cased name with separators as "_"), anchored at
    # the name's end so that counts such as emails_opened or n_phone_calls do not match
    ("email", r"(^|_)e_?mail(_?addr(ess)?)?$"),
    ("ip_address", r"(^|_)ip(_?v[46])?(_?addr(ess)?)?$"),
    ("card_number", r"card_?(number|no|num|nr)$|(^|_)(pan|ccn|cc_?num(ber)?|credit_?card)$"),
    ("phone", r"(^|_)(phone|mobile|telephone|tel|fax|msisdn|cell|cellphone)"
              r"(_?(no|number|num|nr))?$"),
    ("national_id", r"(^|_)(ssn|nino|passport(_?(no|number))?|national_?(id|insurance)"
                    r"(_?(no|number))?|social_?security(_?(no|number))?|tax_?id)$"),
    ("company_name", r"(^|_)(company|organi[sz]ation|employer|business|firm)_?name$"),
    ("person_name", r"(^|_)(full|first|last|given|family|middle|maiden|nick|sur|contact|customer|"
                    r"client|person|patient|user|account_?holder)_?name$|^name$"),
    ("address", r"(^|_)(street|home|postal|mailing|billing|shipping)?_?address(_?line_?\d)?$|"
                r"(^|_)street$"),
    ("id", r"(^|_)(customer|client|user|person|patient|member|lead|contact|account|record|"
           r"subscriber|employee|guest|visitor|device|cookie|session)_?(id|no|number|num|key|ref)"
           r"$|^(id|uuid|guid)$|(^|_)(uuid|guid)$"),
]
# kinds a name alone may flag on a numeric column (numbers stored as integers)
_NUMERIC_KINDS = {"id", "card_number", "phone", "national_id"}

_EMAIL = re.compile(r"^[A-Za-z0-9._%+'\-]+@[A-Za-z0-9\-]+(\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}$")
_EMAIL_IN = re.compile(r"[A-Za-z0-9._%+'\-]+@[A-Za-z0-9\-]+(\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")
_PHONE_INTL = re.compile(r"^\+\d[\d \-().]{5,22}\d$")
_PHONE_NATIONAL = re.compile(r"^(\(0\d{1,4}\)|0\d{1,4})[ \-.]\d{2,4}([ \-.]?\d{2,4}){1,2}$|"
                             r"^\(?\d{3}\)?[ .\-]\d{3}[ .\-]\d{4}$")
_PERSON = re.compile(r"^[A-Z][a-z'’\-]+( [A-Z][a-z'’\-]+){1,2}$")
_PERSON_COMMA = re.compile(r"^[A-Z][a-z'’\-]+, [A-Z][a-z'’\-]+$")
_ID_SHAPE = re.compile(r"^[A-Za-z]{0,4}[-_ ]?\d{4,}$|^\d{2,6}([ \-]\d{2,6}){1,5}$|"
                       r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
                       r"[0-9a-fA-F]{12}$|^[0-9a-fA-F]{16,64}$")
_DATE_SHAPE = re.compile(r"^\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|^\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}")
_CARD_SHAPE = re.compile(r"^\d[\d \-]{11,22}\d$")

FIRST_NAMES = frozenset("""
aaliyah aaron abdul abigail adam adrian agnieszka ahmed aisha akira alan albert alejandro alex
alexander alexandra alfie ali alice alicia alina amanda amara amelia amina amir amit amy ana
andrea andreas andrew angela anita anna anne anthony antonio arjun arthur ashley aziz barbara
ben benjamin beth brian carla carlos carmen caroline catherine charles charlie charlotte chen chloe
chris christian christina christopher claire daniel david deborah dennis diana diego dmitri donald
dorothy edward elena eleanor elijah elizabeth ella emily emma eric ethan eva evelyn farah fatima
felix fernando finn florence francesca frank freya gabriel gary george grace hana hannah harry
hassan helen henry hiroshi hugo ibrahim imran isaac isabel isabella isla ivan jack jacob james jane
jason javier jennifer jessica joan john jonathan jorge jose joseph joshua juan julia julie
karen kate katherine kenji kevin kwame laura lauren layla leo leon liam lily linda lisa lucas luca
lucy luis maria mark martin mary matthew maya mei mia michael michelle mohammed mohammad muhammad
nadia nancy natalia nathan ngozi nicholas nicole noah nora olga oliver olivia omar oscar patricia
paul peter pierre priya rachel rahul ravi rebecca richard robert rosa ruby ryan sakura samuel sandra
santiago sara sarah sebastian sergei sofia sophia sophie stephen steven susan thomas timothy tom
tomas victoria wei william yan yuki yusuf zara zoe
""".split())


def _normalise_name(name) -> str:
    camel = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", str(name))
    return re.sub(r"[^a-z0-9]+", "_", camel.lower()).strip("_")


def luhn_valid(digits: str) -> bool:
    """The Luhn (mod 10) check of ISO/IEC 7812-1 on a string of digits."""
    if not digits.isdigit():
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _ip(v: str) -> bool:
    try:
        ipaddress.ip_address(v)
    except ValueError:
        return False
    return True


def _phone(v: str) -> bool:
    digits = sum(c.isdigit() for c in v)
    if _PHONE_INTL.match(v):
        return 8 <= digits <= 15
    return bool(_PHONE_NATIONAL.match(v)) and 9 <= digits <= 12


def _card(v: str) -> bool:
    if not _CARD_SHAPE.match(v):
        return False
    digits = re.sub(r"[ \-]", "", v)
    return 13 <= len(digits) <= 19 and luhn_valid(digits)


def _first_name(v: str) -> bool:
    if _PERSON_COMMA.match(v):
        return v.split(", ")[1].lower() in FIRST_NAMES
    return v.split(" ")[0].lower() in FIRST_NAMES


_KIND_WORDS = {"email": "an email address", "ip_address": "an IP address",
               "card_number": "a card number", "phone": "a phone number",
               "national_id": "a national identity number", "company_name": "a company name",
               "person_name": "a person's name", "address": "a postal address",
               "id": "a customer or record identifier"}

_CONTENT_CHECKS = [  # (kind, test, what a matching value looks like), in order of precedence
    ("email", lambda v: bool(_EMAIL.match(v)), "email addresses"),
    ("card_number", _card, "payment card numbers (13 to 19 digits passing the Luhn check)"),
    ("ip_address", _ip, "IP addresses"),
    ("phone", _phone, "phone numbers"),
]


def _by_name(column) -> tuple[str, str] | None:
    """(kind, the matched part of the normalised column name), or None."""
    norm = _normalise_name(column)
    for kind, pattern in _NAME_PATTERNS:
        m = re.search(pattern, norm)
        if m:
            return kind, m.group(0).strip("_")
    return None


def _by_content(values: pd.Series, n_distinct_share: float, name_kind: str | None,
                min_share: float) -> tuple[str, float, str] | None:
    """(kind, share, description) of the first content check that ``min_share`` of the sampled
    values pass; ``values`` are non-missing sampled values as text."""
    n = len(values)
    if n == 0:
        return None
    of = f"of {n:,} sampled values"
    for kind, test, what in _CONTENT_CHECKS:
        share = float(np.mean([test(v) for v in values]))
        if share >= min_share:
            return kind, share, f"{share:.0%} {of} look like {what}"
    person = np.array([bool(_PERSON.match(v) or _PERSON_COMMA.match(v)) for v in values])
    if person.mean() >= min_share:
        first = float(np.mean([_first_name(v) for v in values[person]]))
        if first >= FIRST_NAME_SHARE:
            return ("person_name", float(person.mean()),
                    f"{person.mean():.0%} {of} are two or three capitalised words, and {first:.0%} "
                    "of those begin with a common first name")
    if n_distinct_share >= 0.95:
        shaped = float(np.mean([bool(_ID_SHAPE.match(v)) and not _DATE_SHAPE.match(v)
                                for v in values]))
        if name_kind is not None or shaped >= 0.9:
            return ("id", shaped, f"{n_distinct_share:.0%} of the values are distinct and "
                                  f"{shaped:.0%} {of} have an identifier's shape")
    contains = float(np.mean([bool(_EMAIL_IN.search(v)) for v in values]))
    if contains >= 0.1:
        return "email", contains, f"{contains:.0%} {of} contain an email address (free text)"
    return None


def detect_personal_columns(frame: pd.DataFrame, *, sample_size: int = 500,
                            min_share: float = 0.8, random_state: int = 0) -> pd.DataFrame:
    """Columns of ``frame`` that hold direct identifiers, found by name and/or by content.

    Parameters
    ----------
    frame : the data (any columns; the target and model inputs included).
    sample_size : non-missing values sampled per column for the content checks.
    min_share : share of sampled values that must match a content pattern.
    random_state : seed of the sampling.

    Returns
    -------
    DataFrame with one row per detected column and the columns of :data:`COLUMNS`: ``kind``,
    ``by_name`` and ``by_content`` (booleans), ``declared`` (always False here),
    ``content_share`` (share of sampled values matching, NaN when not by content),
    ``n_sampled`` and ``evidence`` (a description; never a value).
    """
    rng = np.random.default_rng(random_state)
    rows = []
    for column in frame.columns:
        col = frame[column]
        named = _by_name(column)
        present = col.dropna()
        is_float = pd.api.types.is_float_dtype(col)
        is_int = pd.api.types.is_integer_dtype(col) and not pd.api.types.is_bool_dtype(col)
        if named is not None and (is_float or is_int or pd.api.types.is_bool_dtype(col)) \
                and named[0] not in _NUMERIC_KINDS:
            named = None  # a count or amount named after a contact channel
        content = None
        n_sampled = 0
        if len(present) and not pd.api.types.is_bool_dtype(col) and not is_float:
            take = rng.choice(len(present), size=min(sample_size, len(present)), replace=False)
            values = present.iloc[np.sort(take)].astype(str).str.strip()
            n_sampled = len(values)
            distinct = present.nunique() / len(present)
            if is_int:  # integers: only card numbers, or ids under an id-like name
                share = float(np.mean([_card(v) for v in values]))
                if share >= min_share:
                    content = ("card_number", share, f"{share:.0%} of {n_sampled:,} sampled values "
                               "are 13 to 19 digits passing the Luhn check")
                elif named is not None and named[0] == "id" and distinct >= 0.95:
                    content = ("id", distinct, f"{distinct:.0%} of the values are distinct")
            else:
                content = _by_content(values.reset_index(drop=True), distinct,
                                      named[0] if named else None, min_share)
        if named is None and content is None:
            continue
        if content is not None and (named is None or content[0] != "id"):
            kind = content[0]
        else:
            kind = named[0]
        evidence = []
        if named is not None:
            evidence.append(f"by name: '{named[1]}' in the column name suggests "
                            f"{_KIND_WORDS[named[0]]}")
        if content is not None:
            evidence.append(f"by content: {content[2]}")
        rows.append((str(column), kind, named is not None, content is not None, False,
                     content[1] if content else np.nan, n_sampled, "; ".join(evidence)))
    return pd.DataFrame(rows, columns=COLUMNS).astype(
        {"by_name": bool, "by_content": bool, "declared": bool, "content_share": float,
         "n_sampled": int})


def _detect_and_merge(subject) -> pd.DataFrame:
    data = pd.concat([subject.frame("members"), subject.frame("nonmembers")], ignore_index=True)
    found = detect_personal_columns(data, random_state=subject.seed)
    declared = list(subject.personal_columns)
    found["declared"] = found["column"].isin(declared)
    missing = [c for c in declared if c not in set(found["column"])]
    extra = pd.DataFrame([(c, "declared", False, False, True, np.nan, 0,
                           "declared personal by the user; not recognised by name or content")
                          for c in missing], columns=COLUMNS)
    out = pd.concat([found, extra], ignore_index=True) if len(extra) else found
    return out.astype({"by_name": bool, "by_content": bool, "declared": bool,
                       "content_share": float, "n_sampled": int})


def personal_columns(subject, *, cache=None) -> pd.DataFrame:
    """Detected and declared personal columns of the subject's data, computed once per audit.

    The frame of :func:`detect_personal_columns` (on members and non-members together), with
    ``declared`` set for the columns the user declared personal, plus a row of kind ``declared``
    for each declared column that detection did not recognise. A copy is returned, so callers may
    modify it.
    """
    from audits.core.cache import shared

    return shared(cache, ("personal_columns",), lambda: _detect_and_merge(subject)).copy()


def personal_column_names(subject, *, cache=None) -> tuple[str, ...]:
    """Every column to redact: detected or declared personal, in the data's column order."""
    names = set(personal_columns(subject, cache=cache)["column"])
    return tuple(c for c in subject.frame("members").columns if c in names)


_QI_PATTERNS = (r"^age(_?(band|group|range|years|bracket))?$", r"^(gender|sex)$",
                r"(^|_)(post_?code|zip(_?code)?|postal_?code)",
                r"^(dob|date_?of_?birth|birth_?(date|year)|year_?of_?birth)$")


def default_quasi_identifiers(columns: Sequence[str], *, exclude: Sequence[str] = ()
                              ) -> tuple[str, ...]:
    """Columns among ``columns`` that look like age, gender, postcode or date of birth."""
    out = []
    for c in columns:
        norm = re.sub(r"[^a-z0-9]+", "_", str(c).lower()).strip("_")
        if c not in exclude and any(re.search(p, norm) for p in _QI_PATTERNS):
            out.append(c)
    return tuple(out)
