"""Folding SHAP values of encoded columns back to the model's original input columns.

Inside a scikit-learn Pipeline the final estimator sees encoded columns; each encoded column is
traced to the input column it comes from (through ColumnTransformers' ``transformers_`` and
``output_indices_``, one-hot encoders, binning, selectors and element-wise transformers), and the
contributions of a block are summed into its input's (a one-hot block sums to that feature's
contribution; Lundberg & Lee 2017 additivity holds before and after folding). Used by
:mod:`audits.shap_values`.
"""

from __future__ import annotations

import numpy as np

__all__ = ["UnmappableError", "fold", "column_map"]

#: preprocessing steps whose output column j depends only on input column j
_ONE_TO_ONE = ("StandardScaler", "MinMaxScaler", "MaxAbsScaler", "RobustScaler",
               "QuantileTransformer", "PowerTransformer", "OrdinalEncoder", "Binarizer",
               "TargetEncoder")


class UnmappableError(ValueError):
    """The pipeline's encoded columns cannot be traced back to single input columns."""


# -----------------------------------------------------------------------------------------------

def fold(values: np.ndarray, mapping: np.ndarray, n_features: int) -> np.ndarray:
    """Sum encoded-column contributions (n, q) into input-column contributions (n, p)."""
    mapping = np.asarray(mapping, dtype=np.intp)
    indicator = np.zeros((mapping.size, n_features))
    indicator[np.arange(mapping.size), mapping] = 1.0
    return np.asarray(values, dtype=float) @ indicator


def column_map(transformer, input_features) -> np.ndarray:
    """Index of the input column each output column of a fitted transformer comes from.

    Handles ``"passthrough"``, Pipelines (composed step by step), ColumnTransformers (through
    ``transformers_`` and ``output_indices_``), one-hot encoders, binning, feature selectors and
    the element-wise scalers and encoders; otherwise matches ``get_feature_names_out`` names.

    Raises
    ------
    UnmappableError
        When an output column mixes several inputs or cannot be traced.
    """
    names = [str(c) for c in input_features]
    n_in = len(names)
    if transformer is None or (isinstance(transformer, str) and transformer == "passthrough"):
        return np.arange(n_in)
    if isinstance(transformer, str) and transformer == "drop":
        return np.zeros(0, dtype=np.intp)
    kind = type(transformer).__name__
    if kind == "Pipeline":
        out, cur = np.arange(n_in), names
        for _, step in transformer.steps:
            if step is None or (isinstance(step, str) and step == "passthrough"):
                continue
            inner = column_map(step, cur)
            out = out[inner]
            cur = _names_out(step, cur)
        return out
    if kind == "ColumnTransformer":
        return _column_transformer_map(transformer, names)
    if hasattr(transformer, "get_support"):  # SelectKBest, VarianceThreshold, ...
        return np.flatnonzero(transformer.get_support())
    if n_in == 1:  # whatever it does, every output comes from the one input
        return np.zeros(len(_names_out(transformer, names)), dtype=np.intp)
    if kind == "OneHotEncoder":
        counts = getattr(transformer, "_n_features_outs", None)
        if counts is not None and len(counts) == n_in:
            return np.repeat(np.arange(n_in), counts)
    if kind == "KBinsDiscretizer" and transformer.encode != "ordinal":
        return np.repeat(np.arange(n_in), transformer.n_bins_)
    if kind in _ONE_TO_ONE or (kind == "FunctionTransformer"
                               and transformer.feature_names_out == "one-to-one"):
        return np.arange(n_in)
    return _match_names(_names_out(transformer, names), names, kind)


def _names_out(step, names: list[str]) -> list[str]:
    try:
        return [str(n) for n in step.get_feature_names_out(names)]
    except Exception as e:
        raise UnmappableError(f"{type(step).__name__} does not name its output columns "
                              f"({type(e).__name__}: {e}).") from e


def _match_names(out: list[str], names: list[str], kind: str) -> np.ndarray:
    idx = []
    for o in out:
        hits = [i for i, c in enumerate(names) if o == c or o.startswith(c + "_")]
        if not hits:
            raise UnmappableError(f"The output column {o!r} of {kind} cannot be traced to one "
                                  f"of its inputs {names}.")
        idx.append(max(hits, key=lambda i: len(names[i])))  # longest matching name
    return np.asarray(idx, dtype=np.intp)


def _column_transformer_map(ct, names: list[str]) -> np.ndarray:
    from audits.minimisation import selected_columns

    n_out = max((s.stop for s in ct.output_indices_.values()), default=0)
    out = np.full(n_out, -1, dtype=np.intp)
    lookup = {c: i for i, c in enumerate(names)}
    for name, trans, cols in ct.transformers_:
        sl = ct.output_indices_.get(name, slice(0, 0))
        if sl.stop - sl.start == 0:
            continue
        try:
            idx = np.asarray([lookup[c] for c in selected_columns(cols, names)], dtype=np.intp)
        except KeyError as e:
            raise UnmappableError(f"The column {e.args[0]!r} is not an input {names}.") from e
        inner = column_map(trans, [names[i] for i in idx])
        if inner.size != sl.stop - sl.start:
            raise UnmappableError(f"The transformer {name!r} gives {sl.stop - sl.start} columns; "
                                  f"{inner.size} were traced.")
        out[sl] = idx[inner]
    if (out < 0).any():
        raise UnmappableError("Some encoded columns could not be traced to an input column.")
    return out
