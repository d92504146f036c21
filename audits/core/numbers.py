"""Numbers as every rendering prints them: one formatting for the probes' statements, the
reports and the app, so that no NumPy repr (``np.int64(1)``) and no raw float reaches a reader.
"""

from __future__ import annotations

from typing import Any

__all__ = ["fmt", "fmt_ci", "fmt_p", "pct", "plain", "is_p_value"]


def plain(v: Any) -> Any:
    """A NumPy scalar as its Python value (``np.int64(1)`` -> 1); anything else unchanged."""
    return v.item() if hasattr(v, "item") and not isinstance(v, (list, tuple, dict)) else v


def fmt(v: Any) -> str:
    """A value as printed: numbers rounded for reading, None as an em dash."""
    v = plain(v)
    if v is None:
        return "—"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, float):
        a = abs(v)
        if a >= 1000:
            return f"{v:,.0f}"
        if a >= 100:
            return f"{v:.1f}"
        if a == 0 or a >= 0.001:
            return f"{v:.3f}"
        return f"{v:.2e}"
    return str(v)


def fmt_ci(ci) -> str:
    """An interval as ``[low, high]``, or an empty string when it has a missing end."""
    if not ci or ci[0] is None or ci[1] is None:
        return ""
    return f"[{fmt(ci[0])}, {fmt(ci[1])}]"


def pct(x) -> str:
    """A share as a percentage (two significant digits under 1%), ``n/a`` for None."""
    if x is None:
        return "n/a"
    x = float(x)
    if x == 0:
        return "0%"
    return f"{100 * x:.2g}%" if x < 0.01 else f"{100 * x:.1f}%".replace(".0%", "%")


def is_p_value(name: str) -> bool:
    """Whether a column or metric name holds a p-value (``p_value``, ``auc_p_value``, ``p``)."""
    name = str(name).lower()
    return name in ("p", "p_value", "pvalue", "p-value") or name.endswith(("_p_value", ".p_value",
                                                                         "p_value_low"))


def fmt_p(p: Any, *, prefix: bool = True) -> str:
    """A p-value as a reader expects it: "p < 0.001" below a thousandth (never 2.68e-105),
    otherwise "p = 0.023" (two significant digits, three decimals at most); an em dash for None.
    ``prefix=False`` leaves out the "p" (a cell under a "p-value" header: "< 0.001", "0.023").
    """
    p = plain(p)
    if p is None or isinstance(p, bool):
        return "—"
    p = float(p)
    if p != p:  # NaN
        return "—"
    if p < 0.001:
        text = "< 0.001"
    elif p >= 0.995:
        text = "> 0.99"
    else:
        text = f"= {float(f'{p:.2g}'):.3g}"
    return f"p {text}" if prefix else text.removeprefix("= ")
