"""Counts that add across partitions, and the keyed-hash sample, for audits of any size.

Everything in an audit that needs all rows is a count: the score histogram behind performance,
the re-identification class sizes, the proxy screen's contingency tables (and, with the
fairness probe, the confusion cells per group). Each is computed as a map (read one partition,
score it, count) and a reduce (add), through :func:`audits.core.parallel.parallel_map`, so peak
memory follows the partition, not the dataset, and a Dask cluster can run the maps. When the
subject holds all its rows in memory (no :class:`~audits.core.partitions.Population`), the same
count functions run on its frames as one partition: the two paths give equal counts.

Scores are counted in bins: ``FINE_BINS`` (2^24) equal-width bins of the positive-class
probability for the point AUC (the Mann-Whitney statistic of the binned scores, ties counted one
half: it differs from the exact AUC by at most half the share of positive-negative pairs whose
scores fall in one bin of width 6e-8), and ``COARSE_BINS`` (2^12) bins x label x decision cells
for the bootstrap. Per-row losses (log loss, Brier) are summed in fixed point (units of 2^-30,
int64), so their sums do not depend on how rows are split into partitions or in which order
they are added. The bootstrap draws the cells' counts from a multinomial, which is the row
bootstrap of rows represented by their cell (Efron 1979); the AUC replicates, computed on the
coarse cells, are shifted by the fine-minus-coarse point difference (the binning's constant
offset) so that the interval is about the reported point.

Sampling: a row's key is a keyed hash (``pandas.util.hash_pandas_object`` with a key derived
from the audit's seed) of its id, or of the whole row when there is no id column; a row is in
the sample when its key falls below ``sample_rows / rows`` of the key range. The same rows are
drawn however the data is partitioned or ordered, and a part with at most ``sample_rows`` rows
is kept whole.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import reduce
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd

from audits.core.bootstrap import weighted_auc
from audits.core.decisions import decided_classes
from audits.core.seeds import derive_seed

__all__ = ["FINE_BINS", "COARSE_BINS", "row_keys", "key_threshold", "ScoreCells",
           "score_cells_of", "add_score_cells", "cell_score_metrics", "map_reduce",
           "score_cells", "score_frame", "qi_class_counts", "add_series", "part_rows"]

FINE_BINS, COARSE_BINS = 1 << 24, 1 << 12
_Q = float(1 << 30)  # fixed-point unit of the per-row losses
_EPS = 1e-15
_MAX_KEY = float(2 ** 64)


# -- the keyed-hash sample ---------------------------------------------------------------------
def row_keys(frame: pd.DataFrame, *, id_column: str | None, seed: int) -> np.ndarray:
    """A uint64 key per row: a keyed hash of its id (or of the whole row), keyed by the seed."""
    key = f"{derive_seed(seed, 'sample rows'):016x}"[:16]
    if id_column is not None and id_column in frame.columns:
        values = frame[id_column].astype(str)
        return pd.util.hash_pandas_object(values, index=False, hash_key=key).to_numpy(np.uint64)
    return pd.util.hash_pandas_object(frame, index=False, hash_key=key).to_numpy(np.uint64)


def key_threshold(n_rows: int, sample_rows: int) -> np.uint64 | None:
    """Keys below this are sampled (None: keep every row, the part is small enough)."""
    if n_rows <= sample_rows:
        return None
    return np.uint64(min(_MAX_KEY - 1, np.floor(sample_rows / n_rows * _MAX_KEY)))


# -- score cells ---------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class ScoreCells:
    """The score histogram of one part: what performance needs from every row.

    fine_codes, fine_counts : sparse (fine bin x 2 + label) codes, sorted, and their rows.
    n, log_loss, brier : dense arrays (COARSE_BINS, 2, 2) over (coarse bin, label, decision):
        rows, and the fixed-point sums of the rows' log loss and Brier score.
    """

    fine_codes: np.ndarray
    fine_counts: np.ndarray
    n: np.ndarray
    log_loss: np.ndarray
    brier: np.ndarray

    @property
    def rows(self) -> int:
        return int(self.n.sum())


def score_cells_of(y: np.ndarray, p: np.ndarray, decision: np.ndarray) -> ScoreCells:
    """Count one partition's rows (labels 0/1, positive-class probabilities, decisions 0/1)."""
    y = np.asarray(y, dtype=np.int64)
    d = np.asarray(decision, dtype=np.int64)
    p = np.asarray(p, dtype=float)
    fine = np.clip(np.floor(p * FINE_BINS), 0, FINE_BINS - 1).astype(np.int64)
    codes, counts = np.unique(fine * 2 + y, return_counts=True)
    coarse = fine >> 12
    cell = (coarse * 2 + y) * 2 + d
    size = COARSE_BINS * 4
    clipped = np.clip(p, _EPS, 1 - _EPS)
    loss = -(y * np.log(clipped) + (1 - y) * np.log(1 - clipped))
    brier = (p - y) ** 2
    shape = (COARSE_BINS, 2, 2)
    return ScoreCells(
        fine_codes=codes.astype(np.int64), fine_counts=counts.astype(np.int64),
        n=np.bincount(cell, minlength=size).astype(np.int64).reshape(shape),
        log_loss=_fixed_sums(cell, loss, size).reshape(shape),
        brier=_fixed_sums(cell, brier, size).reshape(shape))


def _fixed_sums(cell: np.ndarray, values: np.ndarray, size: int) -> np.ndarray:
    """Exact int64 sums of the values in fixed point, per cell (sorted reduce, no float sum)."""
    q = np.rint(values * _Q).astype(np.int64)
    out = np.zeros(size, dtype=np.int64)
    if q.size:
        order = np.argsort(cell, kind="stable")
        sorted_cells = cell[order]
        starts = np.flatnonzero(np.r_[True, sorted_cells[1:] != sorted_cells[:-1]])
        out[sorted_cells[starts]] = np.add.reduceat(q[order], starts)
    return out


def add_score_cells(a: ScoreCells, b: ScoreCells) -> ScoreCells:
    """The cells of the union of two sets of rows."""
    codes = np.concatenate([a.fine_codes, b.fine_codes])
    counts = np.concatenate([a.fine_counts, b.fine_counts])
    uniq, inv = np.unique(codes, return_inverse=True)
    return ScoreCells(fine_codes=uniq, fine_counts=np.bincount(inv, weights=counts,
                                                               minlength=uniq.size
                                                               ).astype(np.int64),
                      n=a.n + b.n, log_loss=a.log_loss + b.log_loss, brier=a.brier + b.brier)


def cell_score_metrics(cells: ScoreCells, *, n_boot: int, random_state: int,
                       chunk: int = 100) -> tuple[dict, dict]:
    """Point values and bootstrap replicates of AUC, accuracy, log loss and Brier score.

    Returns ``(points, reps)``: name -> float, and name -> array (n_boot,), as
    :func:`audits.core.bootstrap.score_metrics` does for rows.
    """
    n = cells.rows
    fy = cells.fine_codes % 2
    points = {"auc": float(weighted_auc(fy, cells.fine_codes // 2,
                                        cells.fine_counts[None, :].astype(float))[0])}
    flat_n = cells.n.reshape(-1)
    nz = np.flatnonzero(flat_n)
    bins, y, d = np.unravel_index(nz, cells.n.shape)
    cn = flat_n[nz].astype(float)
    loss = cells.log_loss.reshape(-1)[nz] / _Q
    brier = cells.brier.reshape(-1)[nz] / _Q
    correct = (y == d).astype(float)
    points["accuracy"] = float(cn @ correct / n)
    points["log_loss"] = float(loss.sum() / n)
    points["brier"] = float(brier.sum() / n)
    coarse_auc = float(weighted_auc(y, bins, cn[None, :])[0])
    rng = np.random.default_rng(random_state)
    p = cn / cn.sum()
    per_loss, per_brier = loss / cn, brier / cn
    reps = {k: [] for k in ("auc", "accuracy", "log_loss", "brier")}
    done = 0
    while done < n_boot:
        k = min(chunk, n_boot - done)
        w = rng.multinomial(n, p, size=k).astype(float)
        reps["auc"].append(weighted_auc(y, bins, w) + (points["auc"] - coarse_auc))
        reps["accuracy"].append(w @ correct / n)
        reps["log_loss"].append(w @ per_loss / n)
        reps["brier"].append(w @ per_brier / n)
        done += k
    return points, {k: np.concatenate(v) for k, v in reps.items()}


# -- map-reduce over a subject's rows --------------------------------------------------------
def map_reduce(fn: Callable[[Any], Any], items: Sequence[Any], add: Callable[[Any, Any], Any],
               *, n_jobs: int | None = None) -> Any:
    """``fn`` over every item through the parallel layer, then the results added in item order
    (so the reduce is deterministic whatever ran where)."""
    from audits.core.parallel import parallel_map

    return reduce(add, parallel_map(fn, list(items), n_jobs=n_jobs))


def part_rows(subject, part: str) -> int:
    """Rows of one part: all of them (a partitioned or sampled subject holds a sample)."""
    pop = getattr(subject, "population", None)
    return int(pop.rows[part]) if pop is not None else int(len(subject.frame(part)))


def _template(subject):
    """The subject without its rows: what a map needs to score a partition like the subject."""
    empty = subject.members.iloc[:0]
    return dataclasses.replace(subject, members=empty, nonmembers=empty, population=None)


def score_frame(template, frame: pd.DataFrame, target_map: dict | None = None
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Labels (1 = positive), positive-class probabilities and decisions (1 = positive decided)
    of one partition's rows, as :class:`~audits.core.subject.AuditSubject` computes them for a
    binary classifier: the model runs once over the rows (``predict`` again only where it is not
    the argmax of the probabilities: :mod:`audits.core.decisions`), on one thread (the
    partitions are the parallel unit)."""
    from threadpoolctl import threadpool_limits

    if target_map:
        frame = frame.assign(**{template.target: frame[template.target].map(target_map)})
    model, positive = template.model, template.positive_label
    X = frame[list(template.feature_columns)]
    with threadpool_limits(limits=1, user_api="openmp"):
        proba = np.asarray(model.predict_proba(X), dtype=float)
        p = proba[:, list(model.classes_).index(positive)]
        if template.decision_threshold is None:
            d = (decided_classes(model, X, proba) == positive).astype(np.int8)
        else:
            d = (p >= template.decision_threshold).astype(np.int8)
    y = (frame[template.target].to_numpy() == positive).astype(np.int8)
    return y, p, d


def scored_columns(template, *extra: str) -> list[str]:
    """The columns a partition is read with to score it (the model's inputs, the target) and
    count it (``extra``): the others, personal columns among them, are never read."""
    return list(dict.fromkeys([*template.feature_columns, template.target, *extra]))


def _scores_map(item) -> ScoreCells:
    """One partition's score cells."""
    template, chunk, target_map = item
    return score_cells_of(*score_frame(template, chunk.read(scored_columns(template)),
                                       target_map))


def score_cells(subject, part: str, *, n_jobs: int | None = None,
                age_bands: Sequence[float] | None = None) -> ScoreCells:
    """The score cells of every row of one part (a binary classifier). With ``age_bands``, from
    the pass that also counts the fairness probe's groups (:mod:`audits.core.group_counts`), so
    the rows are scored once for both probes."""
    pop = getattr(subject, "population", None)
    if pop is None:
        return score_cells_of(subject.y(part), subject.scores(part), subject.decisions(part))
    if age_bands is not None:
        from audits.core.group_counts import population_pass

        return population_pass(subject, part, age_bands=age_bands, n_jobs=n_jobs)[0]
    template = _template(subject)
    items = [(template, c, pop.target_map) for c in pop.chunks[part]]
    return map_reduce(_scores_map, items, add_score_cells, n_jobs=n_jobs)


def add_series(a: pd.Series, b: pd.Series) -> pd.Series:
    """Sum two count series over the union of their index (missing values are a value)."""
    both = pd.concat([a, b])
    levels = list(range(both.index.nlevels))
    return both.groupby(level=levels, dropna=False, sort=False).sum()


def _qi_map(item) -> pd.Series:
    chunk, qis = item
    return chunk.read(list(qis)).groupby(list(qis), dropna=False, sort=False,
                                         observed=True).size()


def qi_class_counts(subject, part: str, qis: Sequence[str], *,
                    n_jobs: int | None = None) -> pd.Series:
    """Rows per combination of the quasi-identifiers, over every row of one part."""
    pop = getattr(subject, "population", None)
    chunks = pop.chunks[part] if pop is not None else ()
    if pop is None:
        from audits.core.partitions import Chunk

        chunks = (Chunk(frame=subject.frame(part)),)
    return map_reduce(_qi_map, [(c, tuple(qis)) for c in chunks], add_series, n_jobs=n_jobs)
