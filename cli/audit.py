"""The ``audit`` and ``samples`` commands of ``review-board``: audit a model, write its report,
record it in the ledger as a self-check, and gate a release on it.

Exit status: 0 when no finding reaches ``--fail-on``, 1 when some do, 2 for bad input or usage.
"""

from __future__ import annotations

import sys
from pathlib import Path

from audits.core.results import Severity
from audits.core.seeds import MAX_SEED
from cli.board import add_db_option, current_user
from reports.source import SAMPLE_NAMES

__all__ = ["add_audit_commands", "run_audit_command", "gate_reached", "source_of", "FORMATS"]

FORMATS = ("json", "html", "md", "pdf")
_GATE = {"fail": Severity.FAIL.rank, "attention": Severity.ATTENTION.rank, "never": None}


def _csv(text: str) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()]


def add_audit_commands(sub) -> None:
    """Add ``audit`` and ``samples`` to the ``review-board`` parser."""
    a = sub.add_parser("audit", help="audit a model and write report.json",
                       description="Audit a model (or a built-in sample) and write "
                                   "DIR/report.json.")
    src = a.add_argument_group("what to audit (a sample, or files)")
    src.add_argument("--sample", help=f"a built-in sample: {', '.join(SAMPLE_NAMES)}")
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
    src.add_argument("--decision-threshold", metavar="T",
                     help="decide positive when P(positive) >= T, a probability in (0, 1) "
                          "(default: the model's predict)")
    src.add_argument("--favourable", help="the decision that benefits the customer "
                                          "(default: the positive label)")
    src.add_argument("--favourable-action", help="the business action it triggers, in words")
    src.add_argument("--task", choices=("binary", "multiclass", "regression"),
                     help="the model's task, checked against the model (default: inferred)")
    src.add_argument("--recipe", help="the training recipe the refits use: a skops file of an "
                                      "unfitted estimator or pipeline, or one of "
                                      "hist_gradient_boosting, random_forest, linear, lightgbm, "
                                      "xgboost (default: the model file's own)")
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
                     help="report formats, comma-separated: json (always written), html, md, pdf, "
                          "model-card (Markdown), standards (the standards map, JSON)")
    run.add_argument("--context", help="context of use (YAML; template: review-board template "
                                       "context)")
    run.add_argument("--inventory", help="feature inventory (YAML or CSV; template: review-board "
                                         "template inventory --model M)")
    _add_rights_options(a)
    add_db_option(run)
    run.add_argument("--fail-on", default="fail", help=f"the release gate: {' | '.join(_GATE)}")
    run.add_argument("--allow-not-assessed", action="store_true",
                     help="do not count probes that could not run against the gate")
    run.add_argument("--seed", default="0", help=f"the audit's seed, 0 to {MAX_SEED}")
    run.add_argument("--probes", type=_csv, default=None, help="probes to run (default: all)")
    run.add_argument("--quiet", action="store_true", help="no progress lines")
    run.add_argument("--dask", metavar="ADDRESS",
                     help="run the parallel work on this Dask scheduler (tcp://host:8786 or "
                          "tls://...; default: $REVIEW_BOARD_DASK, else in this process). The "
                          "cluster must be trusted: pickled data and code move to it")

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


def source_of(args):
    """The :class:`~reports.source.AuditSource` the options describe (typed options checked)."""
    from reports.source import AuditSource

    options = dict(target=args.target, positive_label=args.positive_label,
                   sensitive=args.sensitive, personal=args.personal,
                   quasi_identifiers=args.quasi_identifiers, id_column=args.id_column,
                   decision_threshold=args.decision_threshold, favourable=args.favourable,
                   favourable_action=args.favourable_action, trusted=tuple(args.trust),
                   seed=args.seed, task=args.task, recipe=args.recipe)
    if args.sample:
        return AuditSource(sample=args.sample, model=args.model, train=args.train,
                           holdout=args.holdout, **options)
    return AuditSource(model=args.model, train=args.train, holdout=args.holdout,
                       split_column=args.split_column, trust_pickle=args.trust_pickle, **options)


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
    """True when a finding reaches ``fail_on``, or the audit is incomplete (a requested probe
    could not run, or its headline check was not assessed). Inconclusive checks never count."""
    bound = _GATE[fail_on]
    if bound is None:
        return False
    if any(f.severity.rank >= bound for f in report.findings):
        return True
    incomplete = report.summary.get("incomplete", report.summary["probes_not_run"])
    return bool(incomplete) and not allow_not_assessed


def _check_gate(fail_on: str) -> str:
    from audits.core import messages as msg
    from audits.core.errors import InputError

    if fail_on not in _GATE:
        raise InputError(msg.GATE_UNKNOWN, value=fail_on, valid=list(_GATE))
    return fail_on


def _audit(args) -> int:
    """Validate every input, then audit, write and record. Nothing is written, and no probe
    runs, until every option, the profile, the output folder, the context and inventory files and
    the data have passed their checks."""
    from audits.core.config import AuditConfig, load_config
    from audits.core.engine_dask import ClusterError
    from audits.core.validation import check_output_dir
    from reports.build import attach_context, check_probes, check_rows, run_audit
    from reports.context_files import load_context, load_inventory
    from reports.export import check_formats
    from reports.ledger import open_ledger

    formats = check_formats(args.format)
    probes = check_probes(args.probes)
    _check_gate(args.fail_on)
    source = source_of(args)
    out = check_output_dir(args.out)
    config = load_config(args.config, base=AuditConfig.light() if args.light else None)
    context = load_context(args.context) if args.context else None
    _connect(args.dask)
    subject = source.load(sample_rows=config.sample_rows, partition_rows=config.partition_rows,
                          n_jobs=config.n_jobs)
    inventory = load_inventory(args.inventory, subject.feature_columns) if args.inventory \
        else None
    subject = _with_rights(subject, args, context, inventory)
    check_rows(subject, config, probes)
    ledger = open_ledger(args.db)
    if not args.quiet:
        path = subject.data_path()
        print(f"Auditing {subject.name}: {path['rows']['members']} members, "
              f"{path['rows']['nonmembers']} non-members ({path['path']}), profile "
              f"{config.name}", file=sys.stderr)
    try:
        report = run_audit(subject, config, probes=probes, progress=_progress(args.quiet))
    except ClusterError as e:  # nothing was recorded: the ledger sees whole runs only
        print(f"error: {e}", file=sys.stderr)
        return 2
    report = attach_context(report, context, inventory)
    out.mkdir(parents=True, exist_ok=True)
    path = report.write(out / "report.json")
    run_id = ledger.record_run(report, by=current_user())
    _write_formats(ledger, run_id, [f for f in formats if f != "json"], out)
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


def _connect(address: str | None) -> None:
    """Point the parallel layer at the operator's Dask scheduler (``--dask``, else the
    environment variable) and check that it answers before any work starts."""
    from audits.core.engine_dask import current_client, use_cluster

    if address:
        use_cluster(address)
    current_client()


def _samples(args) -> int:
    from reports.source import SAMPLE_NAMES, build_samples

    for path in build_samples(SAMPLE_NAMES, force=args.force):
        print(f"built {path}")
    return 0


def run_audit_command(args) -> int:
    """Run ``audit`` or ``samples``."""
    return _audit(args) if args.command == "audit" else _samples(args)
