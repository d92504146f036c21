"""Benchmark: how long moving between the app's pages takes once the audit is computed.

Target (issue 7): under 2 s per page switch after the audit, in a real browser. Runs the same
meeting flow as the end-to-end test (``tests/e2e/browser_flow.py``: Debian's headless Chromium
driven by Playwright) on the churn sample and prints each switch, the median and the worst, from
the second round of switches (the first round includes each page's first render of its charts).
There is no peer tool to run beside it; the figure is judged against the target.

    .venv/bin/python bench/bench_app.py [--profile "Full audit"]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.e2e.browser_flow import browser_missing, run_flow  # noqa: E402

TARGET_S = 2.0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profile", default="Quick look",
                    help="profile option on the Load page (default: the light profile)")
    args = ap.parse_args()
    reason = browser_missing()
    if reason:
        print(f"skipped: {reason}")
        return 0
    flow = run_flow(Path(tempfile.mkdtemp(prefix="bench-app-")), profile_label=args.profile)
    first = {k: v for k, v in flow.switch_seconds.items() if not k.startswith("again:")}
    again = {k[6:]: v for k, v in flow.switch_seconds.items() if k.startswith("again:")}
    print(f"audit through the app: {flow.audit_seconds:.1f} s")
    print(f"{'page':<16}{'first visit (s)':>16}{'return (s)':>12}")
    for key in again:
        f = first.get(key)
        print(f"{key:<16}{(f'{f:.2f}' if f is not None else '-'):>16}{again[key]:>12.2f}")
    values = list(again.values())
    worst = max(values)
    print(f"return visits: median {statistics.median(values):.2f} s, worst {worst:.2f} s; "
          f"target < {TARGET_S:.1f} s: {'met' if worst < TARGET_S else 'MISSED'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
