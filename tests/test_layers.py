"""The architecture's rules, checked on the source: layers import only downwards, Streamlit stays
in the front end, importing a package is cheap."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LAYER = {"audits": 1, "attacks": 2, "reports": 3, "views": 4}


def imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("package", ["audits", "attacks", "reports"])
def test_no_streamlit_below_the_front_end(package):
    for path in (ROOT / package).rglob("*.py"):
        assert "streamlit" not in imports(path), path


@pytest.mark.parametrize("package", ["audits", "attacks", "reports"])
def test_imports_point_down(package):
    for path in (ROOT / package).rglob("*.py"):
        for mod in imports(path) & set(LAYER):
            ok = LAYER[mod] <= LAYER[package] and not (package == "audits" and mod == "attacks")
            assert ok, f"{path.relative_to(ROOT)} imports {mod}"


def test_importing_packages_is_cheap():
    code = ("import sys, audits, attacks, reports, audits.results, audits.subject, "
            "audits.config, reports.report; "
            "print(sorted(m for m in ('shap', 'lime', 'weasyprint', 'streamlit', 'fairlearn') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, check=True).stdout.strip()
    assert out == "[]"
