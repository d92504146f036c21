"""Confusion cells per group over every row: the fairness counts of a partitioned audit.

One pass over a part's partitions (:func:`population_pass`, through the parallel layer) scores
each partition and counts its rows by (group of each sensitive field, label, decision): the
fairness probe's confusion cells for every field and intersection are sums of these, and the
same pass gives the performance probe's score cells (:mod:`audits.core.counts`). A field is
banded as the sample bands it (:func:`audits.core.groups.group_codes`), so the groups are named
alike in every partition.

:func:`population_groupings` turns the pass's counts into what the fairness probe's joint
bootstrap takes (``audits.group_metrics.joint_cells``'s fine cells and maps, each grouping's
cells, the overall cells), with the sample's groups first and in the sample's order (groups only
other rows have come after them, by name): when the sample is every row, the cells are those of
``joint_cells`` on the rows, in the same order, so the two paths draw the same replicates.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from audits.core.counts import (
    ScoreCells,
    _template,
    add_score_cells,
    add_series,
    map_reduce,
    score_cells_of,
    score_frame,
    scored_columns,
)
from audits.core.groups import MISSING, _band_names, _fmt

__all__ = ["population_pass", "population_groupings", "group_names", "is_banded"]


def is_banded(values, *, max_distinct: int = 10) -> bool:
    """Whether :func:`~audits.core.groups.group_codes` bands this field (numeric, with more
    than ``max_distinct`` distinct values)."""
    s = pd.Series(values)
    numeric = pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)
    return bool(numeric and s.nunique(dropna=True) > max_distinct)


def group_names(values, *, banded: bool, age_bands: Sequence[float]) -> np.ndarray:
    """Each row's group name, as :func:`~audits.core.groups.group_codes` names it."""
    s = pd.Series(values).reset_index(drop=True)
    if banded:
        edges = np.asarray(sorted(age_bands), dtype=float)
        names = np.asarray(_band_names(edges) + [MISSING], dtype=object)
        x = s.to_numpy(dtype=float, na_value=np.nan)
        raw = np.where(np.isnan(x), len(names) - 1, np.searchsorted(edges, x, side="right"))
        return names[raw]
    codes, uniques = pd.factorize(s, use_na_sentinel=True)  # name each distinct value once
    names = np.asarray([_fmt(v) for v in uniques] + [MISSING], dtype=object)
    return names[codes]  # the sentinel -1 (missing) picks the last name


def _population_map(item) -> tuple[ScoreCells, pd.Series]:
    template, chunk, target_map, spec, age_bands = item
    frame = chunk.read(scored_columns(template, *(f for f, _ in spec)))
    y, p, d = score_frame(template, frame, target_map)
    cols = {f: group_names(frame[f], banded=b, age_bands=age_bands) for f, b in spec}
    table = pd.DataFrame({**cols, "_y": y, "_d": d})
    return score_cells_of(y, p, d), table.groupby(list(table.columns), sort=False).size()


def _add_pair(a, b):
    return add_score_cells(a[0], b[0]), add_series(a[1], b[1])


def population_pass(subject, part: str, *, age_bands: Sequence[float],
                    n_jobs: int | None = None) -> tuple[ScoreCells, pd.Series]:
    """Score cells and (groups, label, decision) counts of every row of one part (a binary
    classifier with a population), computed once per subject, part and age bands."""
    pop = subject.population
    key = ("population", part, tuple(float(a) for a in age_bands))
    if key not in pop.memo:
        sample = subject.frame(part)
        spec = tuple((f, is_banded(sample[f])) for f in subject.sensitive_fields)
        items = [(_template(subject), c, pop.target_map, spec, tuple(age_bands))
                 for c in pop.chunks[part]]
        pop.memo[key] = map_reduce(_population_map, items, _add_pair, n_jobs=n_jobs)
    return pop.memo[key]


def population_groupings(counts: pd.Series, groupings: list[tuple]) -> tuple:
    """The fairness probe's cells over every row.

    Parameters
    ----------
    counts : rows per (group of each sensitive field, ``_y``, ``_d``), from
        :func:`population_pass`.
    groupings : ``(name, sample codes, sample levels)`` of each field and intersection
        (``a*b``), as ``audits.fairness.field_groupings`` gives them on the sample.

    Returns
    -------
    groupings : the same, each grouping's levels extended by the groups only other rows have.
    fine : array (F, 4), cells ``(tp, fp, fn, tn)`` of every non-empty combination of groups.
    maps : each grouping's group of each combination.
    field_counts : each grouping's cells, (G_k, 4).
    overall : the cells of every row, (4,).
    """
    idx = counts.index.to_frame(index=False)
    y, d = idx["_y"].to_numpy(int), idx["_d"].to_numpy(int)
    n = counts.to_numpy(np.int64)
    cell = 2 * (1 - d) + (1 - y)  # tp 0, fp 1, fn 2, tn 3
    out, codes = [], []
    for name, sample_codes, levels in groupings:
        if name in idx.columns:
            names = idx[name].astype(str).to_numpy()
        else:
            a, b = name.split("*", 1)
            names = (idx[a].astype(str) + " & " + idx[b].astype(str)).to_numpy()
        levels = list(levels)
        levels += sorted(set(names) - set(levels))
        out.append((name, sample_codes, levels))
        codes.append(pd.Index(levels).get_indexer(names))
    stacked = np.column_stack(codes) if codes else np.zeros((n.size, 1), dtype=np.intp)
    uniq, inv = np.unique(stacked, axis=0, return_inverse=True)
    inv = inv.ravel()
    fine = np.zeros((len(uniq), 4), dtype=np.int64)
    np.add.at(fine, (inv, cell), n)
    maps = [uniq[:, k].copy() for k in range(len(codes))]
    field_counts = []
    for k, (_, _, levels) in enumerate(out):
        c = np.zeros((len(levels), 4), dtype=np.int64)
        np.add.at(c, (codes[k], cell), n)
        field_counts.append(c)
    return out, fine, maps, field_counts, fine.sum(axis=0)
