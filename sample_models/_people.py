"""Synthetic personal columns for the sample datasets: names, emails, phone numbers, ids.

Nobody in the samples exists. Names are drawn from short lists of common first and last names,
independently of every other column (so a name carries no signal about ethnicity or the target).
Emails use the domains reserved for documentation (RFC 2606: ``example.com``, ``.example``), and
phone numbers come from the ranges Ofcom reserves for TV and radio drama, so no generated contact
detail can reach a real person.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["full_names", "emails", "phones", "unique_ids", "company_names", "card_numbers"]

FEMALE_FIRST = (
    "Olivia", "Amelia", "Isla", "Ava", "Mia", "Grace", "Sophia", "Emily", "Aisha", "Priya",
    "Fatima", "Chloe", "Hannah", "Zara", "Lucy", "Sarah", "Ngozi", "Mei", "Anna", "Laura",
)
MALE_FIRST = (
    "Oliver", "George", "Noah", "Arthur", "Leo", "Jack", "Harry", "Mohammed", "Oscar", "James",
    "Ravi", "Daniel", "Samuel", "Kwame", "Thomas", "Adam", "Luca", "Wei", "David", "Tom",
)
LAST = (
    "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Patel",
    "Robinson", "Wright", "Thompson", "Evans", "Walker", "White", "Roberts", "Green", "Hall",
    "Khan", "Lewis", "Clarke", "Jackson", "Wood", "Harris", "Mensah", "Okafor", "Chen", "Singh",
    "Murphy", "Kowalski", "Martin", "Hughes", "Edwards", "Ali", "Hill", "Moore",
)

# Ofcom's drama ranges: (international prefix, local block); each block holds 1,000 numbers.
_DRAMA_RANGES = (
    "+44 7700 900", "+44 20 7946 0", "+44 113 496 0", "+44 114 496 0", "+44 115 496 0",
    "+44 116 496 0", "+44 117 496 0", "+44 118 496 0", "+44 121 496 0", "+44 131 496 0",
    "+44 141 496 0", "+44 151 496 0", "+44 161 496 0", "+44 191 498 0", "+44 28 9649 6",
)

_COMPANY_WORDS = (
    "Bluefin", "Cobalt", "Dunmore", "Elmstead", "Foxglove", "Granite", "Harbour", "Ironbridge",
    "Juniper", "Kestrel", "Larchwood", "Meridian", "Northgate", "Oakridge", "Pinecrest",
    "Quayside", "Redwood", "Silverline", "Thistle", "Wrenfield",
)
_COMPANY_KINDS = (
    "Analytics", "Logistics", "Foods", "Engineering", "Health", "Retail", "Software",
    "Consulting", "Energy", "Media", "Systems", "Labs",
)


def full_names(rng: np.random.Generator, gender) -> tuple[np.ndarray, np.ndarray]:
    """First and last names; the first name follows ``gender`` ("female"/"male")."""
    gender = np.asarray(gender)
    n = len(gender)
    first = np.where(gender == "female",
                     np.asarray(FEMALE_FIRST)[rng.integers(0, len(FEMALE_FIRST), n)],
                     np.asarray(MALE_FIRST)[rng.integers(0, len(MALE_FIRST), n)])
    last = np.asarray(LAST)[rng.integers(0, len(LAST), n)]
    return first, last


def emails(first, last, domains) -> np.ndarray:
    """``first.last@domain``, with a counter (``first.last2``) so that every address is unique."""
    local = pd.Series([f"{f}.{l}".lower() for f, l in zip(first, last)])
    domains = pd.Series(np.broadcast_to(np.asarray(domains, dtype=object), len(local)))
    nth = pd.DataFrame({"l": local, "d": domains}).groupby(["l", "d"]).cumcount() + 1
    suffix = np.where(nth > 1, nth.astype(str), "")
    return np.array([f"{l}{s}@{d}" for l, s, d in zip(local, suffix, domains)], dtype=object)


def phones(rng: np.random.Generator, n: int) -> np.ndarray:
    """Phone numbers from Ofcom's drama ranges (15,000 distinct numbers; repeats are possible)."""
    block = rng.integers(0, len(_DRAMA_RANGES), n)
    last3 = rng.integers(0, 1000, n)
    return np.array([f"{_DRAMA_RANGES[b]}{d:03d}" for b, d in zip(block, last3)], dtype=object)


def unique_ids(rng: np.random.Generator, n: int, prefix: str, digits: int = 7) -> np.ndarray:
    """``n`` distinct random ids such as ``C0412345`` (random: an id says nothing about a row)."""
    numbers = rng.choice(10 ** digits, size=n, replace=False)
    return np.array([f"{prefix}{k:0{digits}d}" for k in numbers], dtype=object)


def company_names(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Company names ("Kestrel Analytics Ltd") and their ``.example`` email domains."""
    w = rng.integers(0, len(_COMPANY_WORDS), n)
    k = rng.integers(0, len(_COMPANY_KINDS), n)
    names = np.array([f"{_COMPANY_WORDS[a]} {_COMPANY_KINDS[b]} Ltd" for a, b in zip(w, k)],
                     dtype=object)
    domains = np.array([f"{_COMPANY_WORDS[a]}{_COMPANY_KINDS[b]}.example".lower()
                        for a, b in zip(w, k)], dtype=object)
    return names, domains


def card_numbers(rng: np.random.Generator, n: int) -> np.ndarray:
    """Distinct 16-digit loyalty card numbers, printed in groups of four ("6339 0123 4567 8901")."""
    numbers = 6339_0000_0000_0000 + rng.choice(10 ** 12, size=n, replace=False)
    return np.array([f"{k // 10**12:04d} {k // 10**8 % 10**4:04d} {k // 10**4 % 10**4:04d} "
                     f"{k % 10**4:04d}" for k in numbers], dtype=object)
