"""The audit at a glance: how many checks of each area pass, fail or could not be judged.

Drawn on the Run page under the recommendation, from the report's findings (nothing computed but
counts). Readable without colour: each result has its own bar pattern, its symbol and word in
the legend, and each segment carries its count. It is the app's first chart after an audit, so
the browser loads its chart library here, while the board waits for the audit anyway, and not
on the first result page it opens (the Fairness page's first visit took 2.1 s for that, the
target being 2 s; ``bench/bench_app.py``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

import plotly.graph_objects as go

from views.plot_style import SEVERITY, finish

__all__ = ["AREA_NAMES", "result_counts", "results_by_area"]

AREA_NAMES = {"data": "Data", "performance": "Performance", "explainability": "Explainability",
              "fairness": "Fairness", "privacy": "Privacy"}
#: result -> bar pattern (fail and attention hatched differently, pass plain)
PATTERNS = {"fail": "x", "attention": "/", "inconclusive": "\\", "not_assessed": ".",
            "pass": ""}


def result_counts(findings: Iterable) -> dict[str, Counter]:
    """Per area (in report order), the number of findings of each severity."""
    out = {a: Counter() for a in AREA_NAMES}
    for f in findings:
        out.setdefault(f.area, Counter())[str(f.severity.value)] += 1
    return out


def results_by_area(findings: Iterable) -> go.Figure:
    """A horizontal bar per area, one segment per result, each labelled with its count."""
    counts = result_counts(findings)
    areas = [a for a, c in counts.items() if c]
    labels = [AREA_NAMES.get(a, a.capitalize()) for a in areas]
    fig = go.Figure()
    for sev in SEVERITY:  # fail first: the segments read from the worst
        values = [counts[a].get(sev, 0) for a in areas]
        if not any(values):
            continue
        look = SEVERITY[sev]
        fig.add_trace(go.Bar(
            y=labels, x=values, orientation="h", name=f"{look['icon']} {look['label']}",
            text=[str(v) if v else "" for v in values], textposition="inside",
            insidetextanchor="middle", textfont={"color": "#FFFFFF", "size": 13},
            marker={"color": look["fill"], "line": {"color": "#000000", "width": 1},
                    "pattern": {"shape": PATTERNS[sev], "fgcolor": "#FFFFFF",
                                "solidity": 0.15}},
            hovertemplate="%{y}: %{x} " + look["label"].lower() + "<extra></extra>"))
    finish(fig, title="The checks of each area, by result",
           x="Number of checks (findings)", y="", height=150 + 34 * len(areas))
    fig.update_layout(barmode="stack", bargap=0.35)
    fig.update_yaxes(categoryorder="array", categoryarray=labels[::-1])
    fig.update_xaxes(dtick=1 if max((sum(c.values()) for c in counts.values()), default=0)
                     <= 12 else None)
    return fig
