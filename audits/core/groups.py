"""Groups of a sensitive field: the rows' group codes, shared by every probe that compares groups.

A categorical field, or a numeric field with at most ``max_distinct`` (10) distinct values, keeps
its values as groups. Other numeric fields are banded with the audit's ``age_bands`` edges
``e0 < e1 < ... < ek``: ``<e0``, ``[e0, e1)``, ..., ``ek+``, written ``18-24`` when the edges are
whole numbers (default edges 18, 25, 35, 45, 55, 65 give <18, 18-24, 25-34, 35-44, 45-54, 55-64,
65+). A missing value is its own group, ``missing``. Intersections of two fields are the product
of their groups, without the empty combinations.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

__all__ = ["group_codes", "intersect_codes", "MISSING"]

MISSING = "missing"


def _fmt(v) -> str:
    if isinstance(v, (float, np.floating)) and float(v).is_integer():
        return str(int(v))
    return str(v)


def _band_names(edges: Sequence[float]) -> list[str]:
    whole = all(float(e).is_integer() for e in edges)
    e = [_fmt(x) for x in edges]
    names = [f"<{e[0]}"]
    for a, b, bf in zip(e[:-1], e[1:], edges[1:]):
        names.append(f"{a}-{_fmt(bf - 1)}" if whole else f"[{a}, {b})")
    return names + [f"{e[-1]}+"]


def group_codes(values, *, age_bands: Sequence[float] = (18, 25, 35, 45, 55, 65),
                max_distinct: int = 10) -> tuple[np.ndarray, list[str]]:
    """Group of each row as an integer code, and the group names in their natural order.

    Parameters
    ----------
    values : array-like of one sensitive field.
    age_bands : band edges for a numeric field with more than ``max_distinct`` values.
    max_distinct : a numeric field with at most this many distinct values is categorical.

    Returns
    -------
    codes : ndarray of int, one per row: the index of the row's group in ``levels``.
    levels : the groups present (values sorted, bands in band order, ``missing`` last).
    """
    s = pd.Series(values).reset_index(drop=True)
    numeric = pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)
    if numeric and s.nunique(dropna=True) > max_distinct:
        edges = np.asarray(sorted(age_bands), dtype=float)
        names = _band_names(edges)
        x = s.to_numpy(dtype=float, na_value=np.nan)
        raw = np.where(np.isnan(x), len(names), np.searchsorted(edges, x, side="right"))
        names = names + [MISSING]
    else:
        raw, uniques = pd.factorize(s, use_na_sentinel=True)
        uniq = list(uniques)
        try:
            order = sorted(range(len(uniq)), key=lambda i: uniq[i])
        except TypeError:  # mixed types: sort by their text
            order = sorted(range(len(uniq)), key=lambda i: str(uniq[i]))
        rank = np.empty(len(uniq) + 1, dtype=np.intp)
        rank[order] = np.arange(len(uniq))
        rank[-1] = len(uniq)  # the NA sentinel -1
        raw = rank[raw]
        names = [_fmt(uniq[i]) for i in order] + [MISSING]
    present = np.bincount(raw, minlength=len(names)) > 0
    remap = np.cumsum(present) - 1
    return remap[raw].astype(np.intp), [n for n, p in zip(names, present) if p]


def intersect_codes(codes_a: np.ndarray, levels_a: Sequence[str], codes_b: np.ndarray,
                    levels_b: Sequence[str]) -> tuple[np.ndarray, list[str]]:
    """Groups of the intersection of two fields (e.g. ``female & 25-34``), in product order;
    combinations with no rows are left out."""
    raw = np.asarray(codes_a, dtype=np.intp) * len(levels_b) + np.asarray(codes_b, dtype=np.intp)
    names = [f"{x} & {y}" for x in levels_a for y in levels_b]
    present = np.bincount(raw, minlength=len(names)) > 0
    remap = np.cumsum(present) - 1
    return remap[raw].astype(np.intp), [n for n, p in zip(names, present) if p]
