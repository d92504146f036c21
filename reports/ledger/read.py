"""Reading the ledger: runs and their status, one run's record, the board's record for rendering,
and verification. Mixed into :class:`reports.ledger.Ledger`; every method only reads.
"""

from __future__ import annotations

import json
import re

import sqlalchemy as sa

from audits.core.errors import InputError
from reports.diff import diff_reports
from reports.ledger import anchor, chain, keys, signing
from reports.ledger import schema as S
from reports.report import DECISIONS, AuditReport

__all__ = ["LedgerReader", "STATUS_LABELS", "DECISION_CHOICES", "file_stem"]

STATUS_LABELS = {"draft": "Self-check (draft, not submitted)",
                 "submitted": "Submitted (frozen), awaiting review", "under_review": "Under review",
                 "approved": "Approved", "approved_with_conditions": "Approved with conditions",
                 "rejected": "Rejected", "changes_requested": "Changes requested"}
DECISION_CHOICES = {"approve": "approve", "conditions": "approve_with_conditions",
                    "reject": "reject", "changes": "changes_requested"}
_DECISION_LABELS = DECISIONS | {"changes_requested": "Changes requested"}


def file_stem(model: str, run_id: int, version: int | None) -> str:
    """The name exports of a run share: ``<model>-v<version>-run<id>`` (or ``-selfcheck``)."""
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", model) or "model"
    return f"{safe}-v{version}-run{run_id}" if version else f"{safe}-run{run_id}-selfcheck"


def _rows(conn, table, run_id: int) -> list[dict]:
    return [dict(r) for r in conn.execute(sa.select(table).where(table.c.run_id == run_id)
                                          .order_by(table.c.id)).mappings()]


class LedgerReader:
    """Read-only methods of the ledger (needs ``self.engine``, ``self.anchor_path``,
    ``self.key_path``, ``self.display_url``, and the tally of
    :class:`~reports.ledger.workflow.WorkflowMixin`)."""

    def resolve(self, run: int | str) -> int:
        """A run id from ``7``, ``"7"``, ``"run-7"`` or a report-id prefix of 8+ hex digits."""
        text = str(run).strip().lower().removeprefix("run-").removeprefix("run")
        with self.engine.connect() as conn:
            if text.isdigit():
                rid = conn.execute(sa.select(S.runs.c.id).where(S.runs.c.id == int(text))).scalar()
                if rid is not None:
                    return rid
            elif re.fullmatch(r"[0-9a-f]{8,64}", text):
                ids = conn.execute(sa.select(S.runs.c.id).where(
                    S.runs.c.report_id.startswith(text)).order_by(S.runs.c.id)).scalars().all()
                if len(ids) == 1:
                    return ids[0]
                if len(ids) > 1:
                    raise InputError(f"The report id prefix {run!r} matches runs {ids}; give the "
                                     "run number.")
            last = conn.execute(sa.select(sa.func.max(S.runs.c.id))).scalar()
        raise InputError(f"There is no run {run!r} in the ledger {self.display_url}"
                         f"{f' (runs 1 to {last})' if last else ' (it has no runs)'}. List them "
                         "with: review-board ledger list")

    def _status(self, conn, run_id: int) -> str:
        s = conn.execute(sa.select(S.status_changes.c.status).where(
            S.status_changes.c.run_id == run_id).order_by(S.status_changes.c.id.desc())
            .limit(1)).scalar()
        return s or "draft"

    def _run_row(self, conn, run_id: int) -> dict:
        r = conn.execute(sa.select(S.runs.c.id, S.runs.c.model_id, S.runs.c.report_id,
                                   S.runs.c.report_sha256, S.runs.c.at, S.runs.c.by,
                                   S.runs.c.source, S.models.c.name)
                         .join(S.models, S.models.c.id == S.runs.c.model_id)
                         .where(S.runs.c.id == run_id)).mappings().one()
        sub = conn.execute(sa.select(S.submissions).where(S.submissions.c.run_id == run_id)
                           ).mappings().first()
        status = self._status(conn, run_id)
        version = sub["version"] if sub else None
        return {"id": run_id, "model_id": r["model_id"], "model": r["name"],
                "report_id": r["report_id"], "report_sha256": r["report_sha256"],
                "recorded_at": r["at"], "recorded_by": r["by"], "source": r["source"],
                "version": version, "parent_run_id": sub["parent_run_id"] if sub else None,
                "submitted_at": sub["at"] if sub else None, "status": status,
                "status_label": STATUS_LABELS[status],
                "file_stem": file_stem(r["name"], run_id, version)}

    def _report(self, conn, run_id: int) -> AuditReport:
        text = conn.execute(sa.select(S.runs.c.report_json, S.runs.c.report_sha256)
                            .where(S.runs.c.id == run_id)).one()
        if S.sha256_text(text[0]) != text[1]:
            raise InputError(f"The stored report of run {run_id} does not match its hash; run "
                             "review-board ledger verify.")
        return AuditReport.from_json(text[0])

    def _report_id(self, conn, run_id: int) -> str:
        return conn.execute(sa.select(S.runs.c.report_id).where(S.runs.c.id == run_id)).scalar()

    def report(self, run: int | str) -> AuditReport:
        """The run's stored report (checked against its stored SHA-256)."""
        run_id = self.resolve(run)
        with self.engine.connect() as conn:
            return self._report(conn, run_id)

    def ledger_id(self) -> str | None:
        """The hash of the ledger's first event (a session is bound to it), or None when the
        ledger is empty."""
        with self.engine.connect() as conn:
            return conn.execute(sa.select(S.events.c.hash).where(S.events.c.seq == 1)).scalar()

    def head(self) -> tuple[int, str]:
        """(sequence number, hash) of the chain's newest event."""
        with self.engine.connect() as conn:
            return chain.head(conn)

    def runs(self, model: str | None = None) -> list[dict]:
        """Every run (newest last) with its model, version and status."""
        with self.engine.connect() as conn:
            q = sa.select(S.runs.c.id).join(S.models, S.models.c.id == S.runs.c.model_id)
            if model:
                q = q.where(S.models.c.name == model)
            return [self._run_row(conn, rid) for rid in conn.execute(q.order_by(S.runs.c.id))
                    .scalars()]

    def show(self, run: int | str) -> dict:
        """One run: its row, the report's summary and the board's record."""
        run_id = self.resolve(run)
        board = self.board_record(run_id, with_diff=False)
        with self.engine.connect() as conn:
            report = self._report(conn, run_id)
            exports = _rows(conn, S.exports, run_id)
        return {"run": board["run"], "summary": report.summary, "board": board,
                "exports": [{**e, "files": json.loads(e["files"])} for e in exports]}

    def verify(self) -> chain.VerifyResult:
        """Recompute the chain and every row's hash, check the signed heads and the anchor file
        against the ledger's key (``reports.ledger.anchor``) and every member's signature against
        the roster's public keys (``reports.ledger.signing``)."""
        with self.engine.connect() as conn:
            return self._verify(conn)

    def _verify(self, conn) -> chain.VerifyResult:
        rows = chain.event_rows(conn)
        problems = chain.chain_problems(rows) + chain.row_problems(conn, rows)
        more, notes, fpr = anchor.anchor_problems_all(conn, rows, key_path=self.key_path,
                                                      anchor_path=self.anchor_path)
        problems += more
        more, sig_notes, checked = signing.signature_problems(conn)
        problems += more
        top = (rows[-1]["seq"], rows[-1]["hash"]) if rows else (0, S.GENESIS)
        return chain.VerifyResult(ok=not problems, problems=problems, notes=notes + sig_notes,
                                  n_events=len(rows), head=top, key_fingerprint=fpr,
                                  signatures=checked)

    def key_fingerprint(self) -> str | None:
        """The fingerprint of the ledger's key: the key that signed the newest head (as the
        database says; ``verify`` checks it against the key file), else the key file's, else
        None."""
        with self.engine.connect() as conn:
            signed = conn.execute(sa.select(S.heads.c.key_fingerprint).order_by(
                S.heads.c.seq.desc(), S.heads.c.id.desc()).limit(1)).scalar()
        if signed:
            return signed
        try:
            key = keys.load_key(self.key_path)
        except InputError:
            return None
        return keys.fingerprint(key) if key is not None else None

    def _signers(self, conn, run_id: int) -> list[dict]:
        """Each signed act on the run (a vote or the decision): its attestation (name, role,
        time, report id, digest) and its member's Ed25519 signature, checked
        (``reports.ledger.signing``): ``verification`` is "verified", "failed" (with
        ``verification_reason``) or "unsigned" (recorded before signing began)."""
        checked = signing.check_signatures(conn, run_id=run_id)
        by_event = {seq: c for c in checked for seq in c["covers"]}
        q = (sa.select(S.signatures, S.events.c.seq)
             .join(S.events, (S.events.c.row_table == "signatures")
                   & (S.events.c.row_id == S.signatures.c.id), isouter=True)
             .where(S.signatures.c.run_id == run_id).order_by(S.signatures.c.id))
        vote_of = {v["id"]: v["decision"] for v in _rows(conn, S.votes, run_id)}
        out = []
        for g in conn.execute(q).mappings():
            try:
                said = json.loads(g["statement"])
            except ValueError:
                said = {}
            act = "decision" if "decision" in said else "vote"
            value = said.get(act) or vote_of.get(g["vote_id"])
            c = by_event.get(g["seq"])
            out.append({
                "name": g["name"], "role": g["role"], "at": g["at"], "report_id": g["report_id"],
                "digest": g["digest"], "act": act,
                "vote_label": _DECISION_LABELS.get(value, value or ""),
                "key_fingerprint": c["key_fingerprint"] if c else None,
                "method": c["method"] if c else None, "issuer": c["issuer"] if c else None,
                "subject": c["subject"] if c else None,
                "verification": c["status"] if c else "unsigned",
                "verification_reason": (c["reason"] if c else
                                        "recorded before signing began")})
        return out

    def board_record(self, run: int | str, *, with_diff: bool = True) -> dict:
        """The board's record of a run, as the renderers read it (``reports.render.document``):
        the run, its reviewers, votes (and their tally), decision, conditions, dispositions,
        comments, each signer with the verification of their signature, and the ledger's head
        with the fingerprint of the key that signed it."""
        run_id = self.resolve(run)
        with self.engine.connect() as conn:
            info = self._run_row(conn, run_id)
            seq, hash_ = chain.head(conn)
            reviewers: dict[str, dict] = {}
            for r in _rows(conn, S.reviewers, run_id):
                reviewers[r["name"]] = {"name": r["name"], "role": r["role"],
                                        "independent": r["independent"],
                                        "declaration": r["declaration"]}
            votes = [{"reviewer": v["reviewer"], "role": v["role"], "decision": v["decision"],
                      "note": v["note"], "at": v["at"]} for v in _rows(conn, S.votes, run_id)]
            sigs = self._signers(conn, run_id)
            dec = _rows(conn, S.decisions, run_id)
            decision = None
            if dec:
                d = dec[-1]
                decision = {"decision": d["decision"], "by": d["by"], "role": d["role"],
                            "note": d["note"], "at": d["at"]}
            conds = [{"text": c["text"], "owner": c["owner"], "due": c["due"]}
                     for c in _rows(conn, S.conditions, run_id)]
            disp = {}
            for d in _rows(conn, S.dispositions, run_id):
                disp[d["finding_id"]] = {k: d[k] for k in ("disposition", "owner", "due",
                                                           "residual", "note", "by", "at")}
            comments = [{"by": c["by"], "at": c["at"], "text": c["text"],
                         "finding": c["finding_id"]} for c in _rows(conn, S.comments, run_id)]
            tally = self._tally(conn, run_id)
            parent, diff = None, None
            if info["parent_run_id"]:
                p = self._run_row(conn, info["parent_run_id"])
                pdec = _rows(conn, S.decisions, p["id"])
                last = pdec[-1]["decision"] if pdec else None
                parent = {"run_id": p["id"], "version": p["version"],
                          "report_id": p["report_id"], "decision": last,
                          "decision_label": _DECISION_LABELS.get(last, "none recorded"),
                          "file_stem": p["file_stem"]}
                if with_diff:
                    diff = diff_reports(self._report(conn, p["id"]), self._report(conn, run_id),
                                        same_model=False) | {"old_version": p["version"]}
        run_view = {k: info[k] for k in ("id", "model", "version", "status", "status_label",
                                         "recorded_at", "submitted_at", "file_stem")}
        return {"ledger": {"url": self.display_url, "head": {"seq": seq, "hash": hash_},
                           "key_fingerprint": self.key_fingerprint()},
                "run": run_view, "parent": parent, "diff": diff,
                "reviewers": list(reviewers.values()), "votes": votes, "decision": decision,
                "conditions": conds, "dispositions": disp, "comments": comments,
                "signatures": sigs, "tally": tally}
