"""Numbers as every rendering prints them: one formatting for the probes' statements, the
reports and the app, so that no NumPy repr (``np.int64(1)``) and no raw float reaches a reader.
"""

from __future__ import annotations

from typing import Any

__all__ = ["fmt", "fmt_ci", "pct", "plain"]


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
