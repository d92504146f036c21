"""The Run page's results by area (views/overview_chart.py): each area's bar adds up to its
findings, segment by severity, in the report's own counts."""

from __future__ import annotations

from collections import Counter

import pytest

from views.overview_chart import AREA_NAMES, result_counts, results_by_area


@pytest.mark.parametrize("name", ["churn", "customer_value"])
def test_each_segment_is_the_number_of_findings_of_its_area_and_severity(sample_report, name):
    report = sample_report(name, light=True)
    expected = Counter((f.area, f.severity.value) for f in report.findings)
    fig = results_by_area(report.findings)
    drawn = Counter()
    for trace in fig.data:
        severity = next(k for k, v in (("fail", "Fail"), ("attention", "Needs attention"),
                                       ("pass", "Pass"), ("inconclusive", "Inconclusive"),
                                       ("not_assessed", "Not assessed")) if trace.name.endswith(v))
        for label, x, text in zip(trace.y, trace.x, trace.text):
            area = next(a for a, words in AREA_NAMES.items() if words == label)
            if x:
                drawn[(area, severity)] = x
                assert text == str(x)  # each segment says its count
    assert drawn == expected
    assert sum(sum(c.values()) for c in result_counts(report.findings).values()) == \
        len(report.findings) == sum(report.summary["counts"].values())
