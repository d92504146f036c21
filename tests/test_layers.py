"""The architecture's rules, checked on the source, module by module.

Every module belongs to one area (``AREAS``); an import from one module of the project to another
is allowed only when its arrow is listed in ``ALLOWED`` (the table of DESIGN.md's layers, with the
three named exceptions the runner needs). Each rule can fail: a test writes a temporary module
with a forbidden import and checks that the rule names it. Streamlit stays in the front end, and
importing the packages stays cheap.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: area -> the module prefixes it holds (the longest matching prefix decides)
AREAS = {
    "vocabulary": ("audits.core",),
    "probes": ("audits",),
    "attacks": ("attacks",),
    "runner": ("reports",),
    "front ends": ("cli", "views", "app", "review_board"),
    "samples": ("sample_models",),
}

#: (importer, imported, why): an importer or imported is an area name or a module name.
ALLOWED = (
    ("vocabulary", "vocabulary", "the vocabulary is self-contained"),
    ("probes", "vocabulary", "probes speak the vocabulary"),
    ("probes", "probes", "a probe uses its own area's helpers (the proxy screen, SHAP)"),
    ("attacks", "vocabulary", "attacks speak the vocabulary"),
    ("attacks", "attacks", "attacks share the reference pool"),
    ("runner", "vocabulary", "the runner assembles results"),
    ("runner", "runner", "runner, renderers and ledger"),
    ("reports.registry", "probes", "the registry is where probes are plugged in"),
    ("reports.registry", "attacks", "the registry is where attacks are plugged in"),
    ("reports.drilldown", "probes", "one customer, any reference group: the app's only way in"),
    ("reports.drilldown", "attacks", "one customer's exposure"),
    ("reports.source", "samples", "a built-in sample is a source"),
    ("front ends", "vocabulary", "front ends show results and map errors"),
    ("front ends", "runner", "front ends run audits and read reports through the runner"),
    ("front ends", "front ends", "pages share state; the entry point calls the commands"),
    ("samples", "samples", "the generator's own modules"),
)

PACKAGES = ("audits", "attacks", "reports", "cli", "views", "sample_models")
TOP_MODULES = ("app", "review_board")


def area_of(module: str) -> str | None:
    """The area of a dotted module name, by its longest matching prefix; None outside."""
    best, length = None, -1
    for area, prefixes in AREAS.items():
        for p in prefixes:
            if (module == p or module.startswith(p + ".")) and len(p) > length:
                best, length = area, len(p)
    return best


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def all_imports(path: Path) -> set[str]:
    """Every module name a file imports (absolute imports; ``from a import b`` gives a and a.b,
    since b may be a module)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{a.name}" for a in node.names}
    return found


def project_imports(path: Path) -> set[str]:
    """The project modules a file imports."""
    return {m for m in all_imports(path) if area_of(m) is not None and _exists(m)}


def _exists(module: str) -> bool:
    base = ROOT.joinpath(*module.split("."))
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def allowed(importer: str, imported: str) -> bool:
    a, b = area_of(importer), area_of(imported)
    for src, dst, _ in ALLOWED:
        src_ok = src == a if src in AREAS else (importer == src or importer.startswith(src + "."))
        dst_ok = dst == b if dst in AREAS else (imported == dst or imported.startswith(dst + "."))
        if src_ok and dst_ok:
            return True
    return False


def violations(root: Path = ROOT) -> list[str]:
    files = [p for pkg in PACKAGES for p in (root / pkg).rglob("*.py")]
    files += [root / f"{m}.py" for m in TOP_MODULES if (root / f"{m}.py").is_file()]
    out = []
    for path in sorted(files):
        importer = module_name(path, root)
        for imported in sorted(project_imports(path)):
            if not allowed(importer, imported):
                out.append(f"{importer} ({area_of(importer)}) imports {imported} "
                           f"({area_of(imported)})")
    return out


def test_every_import_follows_an_allowed_arrow():
    assert violations() == []


@pytest.mark.parametrize("importer, forbidden", [
    ("audits/core/zz_tmp.py", "audits.fairness"),        # vocabulary -> probes
    ("audits/zz_tmp.py", "attacks.pool"),                # probes -> attacks
    ("attacks/zz_tmp.py", "audits.group_metrics"),       # attacks -> probes
    ("attacks/zz_tmp.py", "reports.report"),             # attacks -> runner
    ("reports/zz_tmp.py", "audits.fairness"),            # runner (not registry) -> probes
    ("views/zz_tmp.py", "attacks.membership"),           # front end -> attacks
    ("views/zz_tmp.py", "audits.record_explanation"),    # front end -> probes
    ("audits/core/zz_tmp.py", "sample_models.generate"), # vocabulary -> samples
    ("cli/zz_tmp.py", "sample_models.generate"),         # front end -> samples
])
def test_a_forbidden_import_is_named(importer, forbidden):
    path = ROOT / importer
    path.write_text(f"import {forbidden}\n", encoding="utf-8")
    try:
        found = violations()
    finally:
        path.unlink()
    name = module_name(path)
    assert any(v.startswith(f"{name} ") and forbidden in v for v in found), found


def test_the_arrows_name_real_areas_and_modules():
    for src, dst, why in ALLOWED:
        for end in (src, dst):
            assert end in AREAS or _exists(end), end
        assert why


@pytest.mark.parametrize("package", ["audits", "attacks", "reports", "cli"])
def test_no_streamlit_below_the_app(package):
    for path in (ROOT / package).rglob("*.py"):
        tops = {m.split(".")[0] for m in all_imports(path)}
        assert "streamlit" not in tops, path


def test_importing_packages_is_cheap():
    code = ("import sys, audits, attacks, reports, audits.core.results, audits.core.subject, "
            "audits.core.config, reports.report, reports.render, cli; "
            "print(sorted(m for m in ('shap', 'lime', 'weasyprint', 'streamlit', 'fairlearn') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, check=True).stdout.strip()
    assert out == "[]"
