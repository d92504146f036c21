"""The ``audit`` and ``samples`` commands of ``review-board``: audit a model, write its report,
record it in the ledger as a self-check, and gate a release on it.

Exit status: 0 when no finding reaches ``--fail-on``, 1 when some do, 2 for bad input or usage.
"""

from __future__ import annotations

import sys
from pathlib import Path

from cli.board import add_db_option, current_user
from reports.source import SAMPLE_NAMES

__all__ = ["add_audit_commands", "run_audit_command", "gate_reached", "FORMATS"]

FORMATS = ("json", "html", "md", "pdf")
_GATE = {"fail": 3, "attention": 2, "never": None}


def _csv(text: str) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()]


def add_audit_commands(sub) -> None:
    """Add ``audit`` and ``samples`` to the ``review-board`` parser."""
    a = sub.add_parser("audit", help="audit a model and write report.json",
                       description="Audit a model (or a built-in sample) and write DIR/report.json.")
    src = a.add_argument_group("what to audit (a sample, or files)")
    src.add_argument("--sample", choices=SAMPLE_NAMES)
    src.add_argument("--model", help="model file (.skops; .pkl/.joblib only with --trust-pickle)")
    src.add_argument("--train", help="the rows the model was trained on (members), CSV or Parquet")
    src.add_argument("--holdout", help="rows the model never saw (non-members), CSV or Parquet")
    src.add_argument("--split-column", help="column of --train marking train/holdout rows")
    src.add_argument("--target", help="target column")
    src.add_argument("--positive-label", help="the class the model's score is the probability of")
    src.add_argument("--sensitive", type=_csv, default=None,
                     help="sensitive fields, comma-separated (may be empty: '')")
    src.add_argument("--personal", type=_csv, default=None, help="personal columns")
    src.add_argument("--quasi-identifiers", type=_csv, default=None)
    src.add_argument("--id-column", help="record id column (pseudonymised in reports)")
    src.add_argument("--decision-threshold", type=float,
                     help="decide positive when P(positive) >= T (default: the model's predict)")
    src.add_argument("--favourable", help="the decision that benefits the customer "
                                          "(default: the positive label)")
    src.add_argument("--favourable-action", help="the business action it triggers, in words")
    src.add_argument("--trust", action="append", default=[], metavar="TYPE",
                     help="trust this type in a skops file (repeat per type)")
    src.add_argument("--trust-pickle", action="store_true",
                     help="allow loading a pickle/joblib model: it runs the file's code")
    run = a.add_argument_group("how to run")
    run.add_argument("--config", help="threshold profile (TOML)")
    run.add_argument("--light", action="store_true",
                     help="light profile: 200 bootstrap replicates, K = 4 reference models")
    run.add_argument("--out", default="review-board-report", help="output folder")
    run.add_argument("--format", type=_csv, default=["json"],
                     help="report formats, comma-separated: json (always written), html, md, pdf")
    run.add_argument("--context", help="context of use (YAML; template: review-board template "
                                       "context)")
    run.add_argument("--inventory", help="feature inventory (YAML or CSV; template: review-board "
                                         "template inventory --model M)")
    _add_rights_options(a)
    add_db_option(run)
    run.add_argument("--fail-on", choices=tuple(_GATE), default="fail")
    run.add_argument("--allow-not-assessed", action="store_true",
                     help="do not count probes that could not run against the gate")
    run.add_argument("--seed", type=int, default=0)
    run.add_argument("--probes", type=_csv, default=None, help="probes to run (default: all)")
    run.add_argument("--quiet", action="store_true", help="no progress lines")

    s = sub.add_parser("samples", help="build the sample models")
    s.add_argument("action", choices=("build",))
    s.add_argument("--force", action="store_true", help="rebuild even when present")


def _add_rights_options(a) -> None:
    """The data-rights options (issue 18): row-level columns that are not model inputs."""
    r = a.add_argument_group("consent and data rights (columns of the rows, not model inputs)")
    r.add_argument("--consent", action="append", default=[], metavar="COL=PURPOSE|...",
                   help="a yes/no consent column and the purposes it covers (repeat per column)")
    r.add_argument("--purpose", help="the model's purposes, '|'-separated (default: the "
                                     "context's purposes)")
    r.add_argument("--collected-at", metavar="COL", help="the date each row was collected")
    r.add_argument("--data-source", metavar="COL",
                   help="where each row came from: first party, third party or broker")
    r.add_argument("--opt-out", metavar="COL[=decisions|training]",
                   help="opt-out of automated decisions; '=decisions|training' when it also "
                        "covers training")
    r.add_argument("--erased", metavar="FILE", help="CSV of customers who asked to be erased: "
                                                    "their id column and requested_at")
    r.add_argument("--trained-at", metavar="DATE", help="when the model was trained (YYYY-MM-DD)")


_RIGHTS_OPTIONS = ("consent", "purpose", "collected_at", "data_source", "opt_out", "erased",
                   "trained_at")


def _with_rights(subject, args, context, inventory):
    """The subject with the declared rights (options, the context's purposes, the inventory's
    retention and origins); a sample keeps its own declaration when no option is given."""
    from audits.core.rights import (
        attach_rights,
        declaration_from_spec,
        parse_consent,
        parse_purposes,
    )

    if not any(getattr(args, k, None) for k in _RIGHTS_OPTIONS):
        return subject
    entries = (inventory or {}).get("features") or {}
    spec = {"consent": {c.column: list(c.purposes) for c in map(parse_consent, args.consent)},
            "purposes": list(parse_purposes(args.purpose)) or (context or {}).get("purposes"),
            "collected_at": args.collected_at, "data_source": args.data_source,
            "opt_out": args.opt_out, "erased": args.erased, "trained_at": args.trained_at,
            "retention": {f: e.get("retention") for f, e in entries.items()},
            "origins": {f: e.get("origin") for f, e in entries.items()}}
    return attach_rights(subject, declaration_from_spec(spec, id_column=subject.id_column))


def _subject(args):
    from audits.core.errors import InputError
    from audits.core.loading import load_subject
    from reports.source import load_sample

    common = dict(positive_label=args.positive_label, sensitive=args.sensitive,
                  personal=args.personal, quasi_identifiers=args.quasi_identifiers,
                  decision_threshold=args.decision_threshold, favourable=args.favourable,
                  favourable_action=args.favourable_action, id_column=args.id_column,
                  seed=args.seed)
    if args.sample:
        given = [f"--{k}" for k in ("model", "train", "holdout") if getattr(args, k)]
        if given:
            raise InputError(f"--sample audits a built-in sample; drop {given} or drop --sample.")
        return load_sample(args.sample, target=args.target, trusted=args.trust or None, **common)
    missing = [f"--{k}" for k in ("model", "train", "target") if not getattr(args, k)]
    if missing:
        raise InputError(f"Missing {missing}. Give --model, --train, --holdout (or "
                         "--split-column) and --target, or --sample NAME.")
    common = {k: (v if v is not None else ()) if k in ("sensitive", "personal",
                                                       "quasi_identifiers") else v
              for k, v in common.items()}
    return load_subject(args.model, args.train, args.holdout, target=args.target,
                        split_column=args.split_column, trusted=args.trust,
                        trust_pickle=args.trust_pickle, **common)


def _progress(quiet: bool):
    if quiet:
        return None
    last = {}

    def show(probe: str, stage: str, fraction: float) -> None:
        if last.get(probe) != stage:
            last[probe] = stage
            print(f"  [{probe}] {stage} ({fraction:.0%})", file=sys.stderr, flush=True)
    return show


def _table(report) -> str:
    lines = [f"{'severity':<13} {'finding':<48} statement"]
    for f in report.findings:
        text = f.statement if len(f.statement) <= 90 else f.statement[:87] + "..."
        lines.append(f"{f.severity.value:<13} {f.id:<48} {text}")
    s = report.summary
    lines.append("")
    lines.append("counts: " + ", ".join(f"{k} {v}" for k, v in s["counts"].items()))
    lines.append(f"recommended decision: {s['recommended_decision'].replace('_', ' ')}")
    if s["probes_not_run"]:
        lines.append(f"probes that could not run: {s['probes_not_run']}")
    return "\n".join(lines)


def gate_reached(report, fail_on: str, allow_not_assessed: bool) -> bool:
    """True when a finding reaches ``fail_on``, or a requested probe could not run."""
    bound = _GATE[fail_on]
    if bound is None:
        return False
    if any(f.severity.rank >= bound for f in report.findings):
        return True
    return bool(report.summary["probes_not_run"]) and not allow_not_assessed


def _audit(args) -> int:
    from audits.core.config import AuditConfig, load_config
    from audits.core.errors import InputError
    from reports.build import run_audit
    from reports.context import attach_context
    from reports.context_files import load_context, load_inventory
    from reports.ledger import open_ledger

    bad = [f for f in args.format if f not in FORMATS]
    if bad:
        raise InputError(f"--format {bad} is not available; available: {list(FORMATS)}.")
    config = load_config(args.config, base=AuditConfig.light() if args.light else None)
    context = load_context(args.context) if args.context else None
    subject = _subject(args)
    inventory = load_inventory(args.inventory, subject.feature_columns) if args.inventory \
        else None
    subject = _with_rights(subject, args, context, inventory)
    ledger = open_ledger(args.db)
    if not args.quiet:
        print(f"Auditing {subject.name}: {len(subject.members)} members, "
              f"{len(subject.nonmembers)} non-members, profile {config.name}", file=sys.stderr)
    report = run_audit(subject, config, probes=args.probes, progress=_progress(args.quiet))
    report = attach_context(report, context, inventory)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = report.write(out / "report.json")
    run_id = ledger.record_run(report, by=current_user())
    _write_formats(ledger, run_id, [f for f in args.format if f != "json"], out)
    print(_table(report))
    print(f"\nreport: {path}  (id {report.report_id[:16]})")
    print(f"ledger: run {run_id}, a self-check until submitted (review-board submit {run_id}); "
          f"{ledger.display_url}")
    return 1 if gate_reached(report, args.fail_on, args.allow_not_assessed) else 0


def _write_formats(ledger, run_id: int, formats: list[str], out: Path) -> None:
    """The audit's other formats, named report.<ext> beside report.json, recorded as exports."""
    if not formats:
        return
    from reports.export import export_run

    for p in export_run(ledger, run_id, formats, out, by=current_user(), stem="report"):
        print(f"wrote {p}", file=sys.stderr)


def _samples(args) -> int:
    from reports.source import SAMPLE_NAMES, build_samples

    for path in build_samples(SAMPLE_NAMES, force=args.force):
        print(f"built {path}")
    return 0


def run_audit_command(args) -> int:
    """Run ``audit`` or ``samples``."""
    return _audit(args) if args.command == "audit" else _samples(args)
