"""The board's commands of ``review-board`` (parsers and handlers): ``ledger
list|show|verify|reanchor``, ``submit``, ``vote``, ``decide``, ``comment``, ``dispose``,
``export``, ``diff``, ``template``, and the roster's ``users`` and ``board`` (in :mod:`cli.users`).

Kept apart from ``review_board.py`` (the entry point and the audit command) so each stays short.
Handlers only call the ledger, the renderers and the context-file readers, and print; bad input
and a refusal of the board's rules raise :class:`audits.core.errors.InputError` (exit 2);
``ledger verify`` exits 1 when it finds a problem. Board actions sign in
(:func:`cli.users.sign_in`: ``--user`` and a password prompt, or ``REVIEW_BOARD_USER`` and
``REVIEW_BOARD_PASSWORD``).
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from pathlib import Path

from audits.core.errors import InputError
from cli.users import (
    USER_COMMANDS,
    add_user_commands,
    add_user_option,
    run_board_settings,
    run_users,
    sign_in,
)

__all__ = ["add_board_commands", "run_board_command", "BOARD_COMMANDS", "current_user",
           "add_db_option"]

BOARD_COMMANDS = ("ledger", "submit", "vote", "decide", "comment", "dispose", "export", "diff",
                  "template") + USER_COMMANDS


def current_user() -> str | None:
    """The operating-system user, recorded as who ran a command that needs no sign-in (an audit,
    an export): not an identity proof."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return None


def _csv(text: str) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()]


def add_db_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", help="ledger database: a SQLAlchemy URL or a SQLite file (default: "
                                "$REVIEW_BOARD_DB, else ~/.review_board/ledger.db)")


def _reviewer_options(p: argparse.ArgumentParser, decisions) -> None:
    p.add_argument("run", help="run id (see review-board ledger list)")
    p.add_argument("--decision", required=True, choices=decisions)
    p.add_argument("--note", help="the reason, in words (required to overrule the recommendation)")
    add_user_option(p)
    add_db_option(p)


def add_board_commands(sub) -> None:
    """Add the board's sub-commands to the ``review-board`` parser."""
    led = sub.add_parser("ledger", help="list, show or verify the ledger, a run's tally; "
                                        "re-anchor it (an administrator)")
    led.add_argument("action", choices=("list", "show", "tally", "verify", "reanchor"))
    led.add_argument("run", nargs="?", help="run id (for show, and tally: the votes and what a "
                                            "decision still needs)")
    led.add_argument("--model", help="only runs of this model (for list)")
    led.add_argument("--json", action="store_true", help="print JSON")
    led.add_argument("--reason", help="why the head is re-anchored, in words (for reanchor)")
    add_user_option(led)
    add_db_option(led)

    s = sub.add_parser("submit", help="submit a self-check run to the board (a submitter; "
                                      "freezes it)")
    s.add_argument("run")
    add_user_option(s)
    add_db_option(s)

    v = sub.add_parser("vote", help="record your vote on a submitted run (a reviewer; signed "
                                    "with your key)")
    _reviewer_options(v, ("approve", "conditions", "reject", "changes"))
    v.add_argument("--independent", action="store_true",
                   help="declare that you are independent of the model's development (only "
                        "such votes count towards the quorum)")
    v.add_argument("--declaration", help="your declaration of interests, in words")

    d = sub.add_parser("decide", help="record the board's decision on a submitted run (the "
                                      "chair; signed; needs every failing or attention finding "
                                      "dispositioned and a quorum of independent votes)")
    _reviewer_options(d, ("approve", "conditions", "reject", "changes"))
    d.add_argument("--condition", action="append", default=[], metavar="TEXT",
                   help="a condition of approval (repeat; pair with --owner and --due)")
    d.add_argument("--owner", action="append", default=[], help="owner of each condition")
    d.add_argument("--due", action="append", default=[],
                   help="due date of each condition (YYYY-MM-DD)")

    c = sub.add_parser("comment", help="comment on a submitted run or one of its findings")
    c.add_argument("run")
    c.add_argument("--text", required=True)
    c.add_argument("--finding", help="finding id (e.g. fairness.proxy.region__ethnicity)")
    add_user_option(c)
    add_db_option(c)

    k = sub.add_parser("dispose", help="record a finding's disposition for the risk register (a "
                                       "reviewer or the chair)")
    k.add_argument("run")
    k.add_argument("finding", help="finding id")
    k.add_argument("--disposition", required=True, choices=("mitigate", "accept", "transfer",
                                                            "avoid"))
    add_user_option(k)
    k.add_argument("--owner")
    k.add_argument("--due")
    k.add_argument("--residual", choices=("low", "medium", "high"), help="residual risk")
    k.add_argument("--note")
    add_db_option(k)

    e = sub.add_parser("export", help="render a run as pdf, html, md or json")
    e.add_argument("run")
    e.add_argument("--format", type=_csv, default=["pdf"], help="pdf, html, md, json (comma list)")
    e.add_argument("--out", default=".", help="output folder")
    add_db_option(e)

    f = sub.add_parser("diff", help="findings that appeared, resolved or changed between versions")
    f.add_argument("old", help="run id or report JSON file")
    f.add_argument("new", help="run id or report JSON file")
    add_db_option(f)

    t = sub.add_parser("template", help="print a context or inventory template to fill in")
    t.add_argument("kind", choices=("context", "inventory"))
    t.add_argument("--sample", choices=("churn", "lead_scoring", "purchase_propensity"))
    t.add_argument("--model", help="model file whose inputs the inventory lists")
    t.add_argument("--trust", action="append", default=[], metavar="TYPE")
    t.add_argument("--trust-pickle", action="store_true")
    t.add_argument("--format", choices=("yaml", "csv"), default="yaml", dest="fmt")
    t.add_argument("--out", help="write to this file instead of printing")
    add_user_commands(sub, add_db_option)


def _ledger(args):
    from reports.ledger import open_ledger

    return open_ledger(args.db)


def _print_run(r: dict) -> str:
    version = f"v{r['version']}" if r["version"] else "-"
    return (f"{r['id']:>5}  {r['model']:<22} {version:<5} {r['status']:<25} "
            f"{r['recorded_at']}  {r['report_id'][:16]}")


def _cmd_ledger(args) -> int:
    ledger = _ledger(args)
    if args.action == "list":
        rows = ledger.runs(args.model)
        if args.json:
            print(json.dumps(rows, indent=2))
            return 0
        print(f"{'run':>5}  {'model':<22} {'ver':<5} {'status':<25} {'recorded (UTC)':<20}  report")
        for r in rows:
            print(_print_run(r))
        seq, h = ledger.head()
        print(f"\nledger {ledger.display_url}: {seq} events, head {h}")
        return 0
    if args.action == "show":
        if not args.run:
            raise InputError("Give the run to show: review-board ledger show RUN.")
        info = ledger.show(args.run)
        if args.json:
            print(json.dumps(info, indent=2, default=str))
            return 0
        b = info["board"]
        print(_print_run({**b["run"], "report_id": ledger.report(args.run).report_id}))
        print(f"recommended: {info['summary']['recommended_decision']}; "
              f"decision: {(b['decision'] or {}).get('decision', 'none')}")
        for key in ("reviewers", "votes", "conditions", "comments", "signatures"):
            for item in b[key]:
                print(f"  {key[:-1]}: {json.dumps(item, ensure_ascii=False)}")
        for fid, d in b["dispositions"].items():
            print(f"  disposition: {fid}: {json.dumps(d, ensure_ascii=False)}")
        for e in info["exports"]:
            print(f"  export {e['format']} at {e['at']}: {e['files']}")
        return 0
    if args.action == "reanchor":
        return _reanchor(ledger, args)
    if args.action == "tally":
        if not args.run:
            raise InputError("Give the run: review-board ledger tally RUN.")
        return _print_missing(ledger, args.run)
    result = ledger.verify()
    for p in result.problems:
        print(f"TAMPERED: {p}")
    for n in result.notes:
        print(f"note: {n}", file=sys.stderr)
    print(f"{'OK' if result.ok else 'FAILED'}: {result.n_events} events, head seq "
          f"{result.head[0]} {result.head[1]} ({ledger.display_url}; anchor {ledger.anchor_path})")
    print(f"ledger key: {result.key_fingerprint or 'missing'} ({ledger.key_path}); compare it "
          "with the fingerprint your board publishes")
    failed = [s for s in result.signatures if s["status"] != "verified"]
    print(f"member signatures: {len(result.signatures) - len(failed)} verified, {len(failed)} "
          "failed")
    return 0 if result.ok else 1


def _reanchor(ledger, args) -> int:
    if not args.reason:
        raise InputError("Give the reason for re-anchoring: review-board ledger reanchor "
                         "--reason TEXT (it is recorded in the ledger).")
    by = sign_in(ledger, args) if ledger.roster_state().has_administrator() else current_user()
    r = ledger.reanchor(reason=args.reason, by=by)
    for p in r["accepted"]:
        print(f"accepted: {p}")
    key = "a new key" if r["new_key"] else "the ledger's key"
    print(f"re-anchored at event {r['seq']} {r['hash']}, signed with {key} "
          f"{r['key_fingerprint']} ({ledger.key_path}); {len(r['accepted'])} problem(s) "
          "accepted and recorded.")
    return 0


def _print_missing(ledger, run) -> int:
    t = ledger.tally(run)
    counts = ", ".join(f"{k} {v}" for k, v in t["counts"].items()) or "no votes"
    print(f"votes: {counts}; {t['independent']} independent of the quorum of {t['quorum']}")
    for v in t["voters"]:
        how = "independent" if v["independent"] else "not declared independent"
        print(f"  {v['name']}: {v['decision']} ({how}{'' if v['counts'] else ', not counted'})")
    missing = ledger.missing_for_decision(run)
    for m in missing:
        print(f"missing: {m}")
    print("the decision can be recorded" if not missing else
          f"{len(missing)} thing(s) missing before the decision")
    return 0


def _conditions(args) -> list[dict]:
    if len(args.owner) > len(args.condition) or len(args.due) > len(args.condition):
        raise InputError("Each --owner and --due belongs to a --condition; give the condition "
                         "first: --condition TEXT --owner NAME --due DATE.")
    return [{"text": t, "owner": args.owner[i] if i < len(args.owner) else None,
             "due": args.due[i] if i < len(args.due) else None}
            for i, t in enumerate(args.condition)]


def _load_report(ref: str, ledger_args) -> "object":
    from reports.report import AuditReport

    path = Path(ref)
    if path.suffix == ".json" and not path.is_file():
        raise InputError(f"The report file {path} does not exist.")
    if path.suffix == ".json":
        try:
            return AuditReport.read(path)
        except (ValueError, KeyError) as e:
            raise InputError(f"The file {path} is not a readable report JSON ({e}).") from e
    return _ledger(ledger_args).report(ref)


def _template(args) -> int:
    from reports.context_files import context_template, inventory_template

    if args.kind == "context":
        text = context_template()
    else:
        if args.sample:
            from reports.source import sample_manifest

            features = sample_manifest(args.sample)["feature_columns"]
        elif args.model:
            from audits.core.loading import load_model

            model = load_model(args.model, trusted=args.trust, trust_pickle=args.trust_pickle)
            names = getattr(model, "feature_names_in_", None)
            names = names if names is not None else getattr(model, "feature_name_", None)
            if names is None:
                raise InputError(f"The model in {args.model} does not record its input names; "
                                 "refit it on a pandas DataFrame.")
            features = [str(n) for n in names]
        else:
            raise InputError("An inventory template lists the model's inputs: give --sample NAME "
                             "or --model FILE.")
        text = inventory_template(features, fmt=args.fmt)
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
        print(f"wrote {args.out}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def run_board_command(args) -> int:
    """Run one of :data:`BOARD_COMMANDS`; returns the exit status."""
    cmd = args.command
    if cmd == "ledger":
        return _cmd_ledger(args)
    if cmd == "template":
        return _template(args)
    if cmd == "diff":
        from reports.diff import diff_reports, format_diff

        print(format_diff(diff_reports(_load_report(args.old, args),
                                       _load_report(args.new, args))))
        return 0
    ledger = _ledger(args)
    if cmd == "users":
        return run_users(ledger, args)
    if cmd == "board":
        return run_board_settings(ledger, args)
    if cmd in ("submit", "vote", "decide", "comment", "dispose"):
        by = sign_in(ledger, args)
    if cmd == "submit":
        r = ledger.submit(args.run, by=by)
        parent = f", parent run {r['parent_run']}" if r["parent_run"] else ""
        print(f"run {r['run']} submitted as {r['model']} v{r['version']}{parent}; it is frozen.")
    elif cmd == "vote":
        ledger.record_vote(args.run, args.decision, by=by, note=args.note,
                           independent=args.independent, declaration=args.declaration)
        print(f"vote recorded on run {args.run}, signed by {by.name} with key "
              f"{by.key_fingerprint}.")
    elif cmd == "decide":
        r = ledger.decide(args.run, args.decision, by=by, note=args.note,
                          conditions=_conditions(args))
        print(f"run {r['run']}: {r['status'].replace('_', ' ')} (recorded and signed by "
              f"{by.name}).")
    elif cmd == "comment":
        ledger.comment(args.run, args.text, by=by, finding=args.finding)
        print(f"comment recorded on run {args.run}.")
    elif cmd == "dispose":
        ledger.dispose(args.run, args.finding, args.disposition, by=by,
                       owner=args.owner, due=args.due, residual=args.residual, note=args.note)
        print(f"{args.finding}: {args.disposition} recorded on run {args.run}.")
    elif cmd == "export":
        from reports.export import export_run

        for path in export_run(ledger, args.run, args.format, args.out, by=current_user()):
            print(path)
    seq, h = ledger.head()
    print(f"ledger head: event {seq} {h}", file=sys.stderr)
    return 0
