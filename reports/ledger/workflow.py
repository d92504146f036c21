"""The review workflow's writes, each by a signed-in member and checked against the board's rules
(``reports.ledger.rules``) under the write lock: submit, comment, dispose, vote, decide. Mixed into
:class:`reports.ledger.Ledger`.

=================  ============================  ==============================================
act                who                           also needs
=================  ============================  ==============================================
submit             a submitter                   not a reviewer of this model
comment            a reviewer, the chair, or     the run submitted
                   the model's submitter
dispose            a reviewer or the chair       not the model's submitter
vote               a reviewer                    not the model's submitter; signed
decide             the chair                     every fail/attention finding dispositioned, a
                                                 quorum of independent votes, conditions with
                                                 owner and due date; signed; not a vote
=================  ============================  ==============================================
"""

from __future__ import annotations

from typing import Sequence

import sqlalchemy as sa

from audits.core.errors import InputError
from reports.ledger import chain, rules, signing
from reports.ledger import roster as R
from reports.ledger import schema as S
from reports.ledger.identity import authorise, first_hash
from reports.ledger.read import DECISION_CHOICES

__all__ = ["WorkflowMixin", "FINAL", "DISPOSITIONS", "RESIDUAL"]

FINAL = {"approve": "approved", "approve_with_conditions": "approved_with_conditions",
         "reject": "rejected", "changes_requested": "changes_requested"}
DISPOSITIONS = ("mitigate", "accept", "transfer", "avoid")
RESIDUAL = ("low", "medium", "high")
_OPEN = ("submitted", "under_review")


class WorkflowMixin:
    """Needs ``self._commit``, ``self.resolve`` and the reading helpers of ``LedgerReader``."""

    # -- who did what on a model ---------------------------------------------------------------
    def _people(self, conn, model_id: int) -> dict[str, set]:
        """The model's submitters and reviewers (voted or disposed on any of its runs)."""
        runs = sa.select(S.runs.c.id).where(S.runs.c.model_id == model_id)
        subs = set(conn.execute(sa.select(S.submissions.c.by).where(
            S.submissions.c.model_id == model_id)).scalars()) - {None}
        revs = set(conn.execute(sa.select(S.votes.c.reviewer).where(
            S.votes.c.run_id.in_(runs))).scalars()) | set(conn.execute(
                sa.select(S.dispositions.c.by).where(S.dispositions.c.run_id.in_(runs))
            ).scalars())
        return {"submitters": subs, "reviewers": revs - {None}}

    def _act(self, conn, by, run_id: int | None, roles: tuple[str, ...], action: str):
        m = authorise(R.load_roster(conn), by, ledger_first=first_hash(conn), roles=roles,
                      action=action)
        return m

    # -- writes -------------------------------------------------------------------------------
    def submit(self, run: int | str, *, by) -> dict:
        """Submit a self-check run to the board (a submitter): it becomes the model's next
        version, frozen, linked to the previous version as its parent."""
        run_id = self.resolve(run)

        def work(conn):
            m = self._act(conn, by, run_id, ("submitter",), "Submitting a model")
            info = self._run_row(conn, run_id)
            if m.name in self._people(conn, info["model_id"])["reviewers"]:
                raise rules.BoardRuleError(rules.conflict_message(
                    m.name, info["model"], "reviewed", "submit"), ["another submitter"])
            if info["status"] != "draft":
                raise InputError(f"Run {run_id} is already submitted ({info['status']}); a run "
                                 "is submitted once. Audit again for a new version.")
            if not self._report(conn, run_id).verify():
                raise InputError(f"The stored report of run {run_id} does not match its id; "
                                 "run review-board ledger verify.")
            prev = conn.execute(sa.select(S.submissions).where(
                S.submissions.c.model_id == info["model_id"])
                .order_by(S.submissions.c.version.desc()).limit(1)).mappings().first()
            if prev is not None and self._status(conn, prev["run_id"]) in _OPEN:
                raise InputError(f"Version {prev['version']} of {info['model']} (run "
                                 f"{prev['run_id']}) is still under review; decide it first "
                                 "(for instance, the board records 'changes requested' on "
                                 f"it; on the command line: review-board decide "
                                 f"{prev['run_id']} --decision changes).")
            version = (prev["version"] + 1) if prev else 1
            at = chain.now()
            chain.append(conn, "submissions", {
                "run_id": run_id, "model_id": info["model_id"], "version": version,
                "parent_run_id": prev["run_id"] if prev else None, "at": at, "by": m.name},
                kind="submitted", run_id=run_id, actor=m.name, at=at)
            self._set_status(conn, run_id, "submitted", m.name)
            return {"run": run_id, "model": info["model"], "version": version,
                    "parent_run": prev["run_id"] if prev else None}
        return self._commit(work, by=getattr(by, "name", None))

    def _set_status(self, conn, run_id: int, status: str, by: str | None) -> None:
        chain.append(conn, "status_changes", {"run_id": run_id, "status": status,
                                              "at": chain.now(), "by": by},
                     kind=f"status:{status}", run_id=run_id, actor=by)

    def _open_for_review(self, conn, run_id: int, by: str | None, what: str) -> str:
        """The run's status, once it is submitted (the first act of the board moves it to under
        review); a draft refuses. Comments and dispositions stay possible after a decision
        (conditions are followed up); votes and a second decision do not."""
        status = self._status(conn, run_id)
        if status == "draft":
            raise InputError(f"Run {run_id} is a self-check (draft); submit it to the board "
                             f"before recording {what} (on the command line: review-board "
                             f"submit {run_id}).")
        if status == "submitted":
            self._set_status(conn, run_id, "under_review", by)
            status = "under_review"
        return status

    def _not_submitter(self, conn, m, run_id: int, wants: str) -> None:
        info = self._run_row(conn, run_id)
        if m.name in self._people(conn, info["model_id"])["submitters"]:
            raise rules.BoardRuleError(rules.conflict_message(m.name, info["model"], "submitted",
                                                              wants), ["an independent reviewer"])

    def comment(self, run: int | str, text: str, *, by, finding: str | None = None) -> int:
        """A comment on the run or one finding: by a reviewer, the chair, or the model's
        submitter (answering the board)."""
        run_id = self.resolve(run)
        if not (text or "").strip():
            raise InputError("The comment is empty; type it first (--text on the command line).")

        def work(conn):
            roster = R.load_roster(conn)
            info = self._run_row(conn, run_id)
            submitters = self._people(conn, info["model_id"])["submitters"]
            roles = ("reviewer", "chair") + (("submitter",) if getattr(by, "name", None)
                                             in submitters else ())
            m = authorise(roster, by, ledger_first=first_hash(conn), roles=roles,
                          action="Commenting (a reviewer, the chair or the model's submitter)")
            self._open_for_review(conn, run_id, m.name, "a comment")
            self._check_finding(conn, run_id, finding)
            cid, _ = chain.append(conn, "comments", {"run_id": run_id, "finding_id": finding,
                                                     "by": m.name, "text": text.strip(),
                                                     "at": chain.now()},
                                  kind="comment", run_id=run_id, actor=m.name)
            return cid
        return self._commit(work, by=getattr(by, "name", None))

    def dispose(self, run: int | str, finding: str, disposition: str, *, by,
                owner: str | None = None, due: str | None = None, residual: str | None = None,
                note: str | None = None) -> int:
        """A finding's disposition (mitigate, accept, transfer, avoid) for the risk register: by
        a reviewer or the chair, never the model's submitter."""
        run_id = self.resolve(run)
        if disposition not in DISPOSITIONS:
            raise InputError(f"Disposition {disposition!r}; valid: {list(DISPOSITIONS)}.")
        if residual is not None and residual not in RESIDUAL:
            raise InputError(f"Residual risk {residual!r}; valid: {list(RESIDUAL)}.")

        def work(conn):
            m = self._act(conn, by, run_id, ("reviewer", "chair"), "Recording a disposition")
            self._not_submitter(conn, m, run_id, "dispose of the findings of")
            self._open_for_review(conn, run_id, m.name, "a disposition")
            self._check_finding(conn, run_id, finding)
            did, _ = chain.append(conn, "dispositions", {
                "run_id": run_id, "finding_id": finding, "disposition": disposition,
                "owner": owner, "due": due, "residual": residual, "note": note, "by": m.name,
                "at": chain.now()}, kind="disposition", run_id=run_id, actor=m.name)
            return did
        return self._commit(work, by=getattr(by, "name", None))

    def _attest(self, conn, run_id: int, name: str, role: str, at: str, what: dict,
                vote_id: int | None) -> None:
        statement = {"name": name, "role": role, "at": at,
                     "report_id": self._report_id(conn, run_id)} | what
        chain.append(conn, "signatures", {
            "run_id": run_id, "vote_id": vote_id, "name": name, "role": role,
            "report_id": statement["report_id"], "statement": S.canonical(statement).decode(),
            "digest": S.sha256_text(S.canonical(statement)), "at": at},
            kind="signature", run_id=run_id, actor=name, at=at)

    def record_vote(self, run: int | str, decision: str, *, by, note: str | None = None,
                    independent: bool = False, declaration: str | None = None) -> int:
        """A reviewer's vote, with their declaration of independence, signed with their key;
        returns its id. A reviewer may vote again: their latest vote counts."""
        run_id = self.resolve(run)
        decision = DECISION_CHOICES.get(decision, decision)
        if decision not in FINAL:
            raise InputError(f"Vote {decision!r}; valid votes: {list(DECISION_CHOICES)}.")

        def work(conn):
            since = chain.head(conn)[0]
            m = self._act(conn, by, run_id, ("reviewer",), "Voting")
            self._not_submitter(conn, m, run_id, "vote on")
            if self._open_for_review(conn, run_id, m.name, "a vote") not in _OPEN:
                raise InputError(f"Run {run_id} was already decided ({self._status(conn, run_id)})"
                                 "; votes are closed.")
            last = conn.execute(sa.select(S.reviewers).where(
                (S.reviewers.c.run_id == run_id) & (S.reviewers.c.name == m.name))
                .order_by(S.reviewers.c.id.desc()).limit(1)).mappings().first()
            if last is None or (last["independent"], last["declaration"]) != \
                    (bool(independent), declaration):
                chain.append(conn, "reviewers", {"run_id": run_id, "name": m.name,
                                                 "role": "reviewer",
                                                 "independent": bool(independent),
                                                 "declaration": declaration, "at": chain.now()},
                             kind="reviewer", run_id=run_id, actor=m.name)
            at = chain.now()
            vote_id, _ = chain.append(conn, "votes", {
                "run_id": run_id, "reviewer": m.name, "role": "reviewer", "decision": decision,
                "note": note, "at": at}, kind="vote", run_id=run_id, actor=m.name, at=at)
            self._attest(conn, run_id, m.name, "reviewer", at,
                         {"vote": decision, "independent": bool(independent)}, vote_id)
            signing.sign_act(conn, by, run_id=run_id, act="vote", role="reviewer", since=since)
            return vote_id
        return self._commit(work, by=getattr(by, "name", None))

    # -- the decision -------------------------------------------------------------------------
    def _tally(self, conn, run_id: int) -> dict:
        info = self._run_row(conn, run_id)
        votes = [dict(r) for r in conn.execute(sa.select(S.votes).where(
            S.votes.c.run_id == run_id).order_by(S.votes.c.id)).mappings()]
        declared = [dict(r) for r in conn.execute(sa.select(S.reviewers).where(
            S.reviewers.c.run_id == run_id).order_by(S.reviewers.c.id)).mappings()]
        return rules.tally(votes, declared,
                           submitters=self._people(conn, info["model_id"])["submitters"],
                           quorum=R.board_settings(conn)["quorum"])

    def _missing(self, conn, run_id: int) -> list[str]:
        disp = {r.finding_id for r in conn.execute(sa.select(S.dispositions.c.finding_id).where(
            S.dispositions.c.run_id == run_id))}
        return rules.missing_for_decision(self._report(conn, run_id).findings,
                                          dict.fromkeys(disp), self._tally(conn, run_id))

    def tally(self, run: int | str) -> dict:
        """The votes on a run (``reports.ledger.rules.tally``): each voter's latest vote, the
        count per decision, the independent votes and the quorum."""
        run_id = self.resolve(run)
        with self.engine.connect() as conn:
            return self._tally(conn, run_id)

    def missing_for_decision(self, run: int | str) -> list[str]:
        """What the board still needs before the chair can record a decision, one sentence
        each (empty when nothing is missing)."""
        run_id = self.resolve(run)
        with self.engine.connect() as conn:
            return self._missing(conn, run_id)

    def decide(self, run: int | str, decision: str, *, by, note: str | None = None,
               conditions: Sequence[dict] = ()) -> dict:
        """Record the board's decision (the chair), signed with the chair's key. It is not a
        vote. ``decision``: approve, conditions (approve with conditions), reject or changes
        (changes requested). Conditions are dicts with ``text``, ``owner`` and ``due``
        (YYYY-MM-DD). Overruling the recommended decision needs a ``note``.

        Raises
        ------
        BoardRuleError
            Listing everything missing: findings without a disposition, votes short of the
            quorum, an incomplete condition, the note of an overruling decision.
        """
        run_id = self.resolve(run)
        decision = DECISION_CHOICES.get(decision, decision)
        if decision not in FINAL:
            raise InputError(f"Decision {decision!r}; valid decisions: {list(DECISION_CHOICES)}.")
        conditions = rules.check_conditions(decision, conditions)

        def work(conn):
            since = chain.head(conn)[0]
            m = self._act(conn, by, run_id, ("chair",), "Recording the board's decision")
            status = self._status(conn, run_id)
            if status == "draft":
                self._open_for_review(conn, run_id, m.name, "a decision")
            if status not in _OPEN:
                raise InputError(f"Run {run_id} was already decided ({status}); a decision is "
                                 "final. Audit and submit a new version.")
            missing = self._missing(conn, run_id)
            recommended = self._report(conn, run_id).summary.get("recommended_decision")
            if decision not in (recommended, "changes_requested") and not (note or "").strip():
                missing.append(f"The decision {decision!r} overrules the recommended "
                               f"{recommended!r}; give the reason in the note (--note on the "
                               "command line).")
            if missing:
                head = "The decision cannot be recorded yet. " if len(missing) > 1 or \
                    not missing[0].startswith("The decision") else ""
                raise rules.BoardRuleError(head + " ".join(missing), missing)
            self._open_for_review(conn, run_id, m.name, "a decision")
            at = chain.now()
            did, _ = chain.append(conn, "decisions", {
                "run_id": run_id, "decision": decision, "by": m.name, "role": "chair",
                "note": note, "at": at}, kind="decision", run_id=run_id, actor=m.name, at=at)
            for c in conditions:
                chain.append(conn, "conditions", {
                    "run_id": run_id, "decision_id": did, "text": c["text"],
                    "owner": c["owner"], "due": c["due"], "at": chain.now()},
                    kind="condition", run_id=run_id, actor=m.name)
            self._attest(conn, run_id, m.name, "chair", at,
                         {"decision": decision, "conditions": conditions}, None)
            self._set_status(conn, run_id, FINAL[decision], m.name)
            signing.sign_act(conn, by, run_id=run_id, act="decision", role="chair", since=since)
            return {"run": run_id, "decision": decision, "status": FINAL[decision]}
        return self._commit(work, by=getattr(by, "name", None))

    def _check_finding(self, conn, run_id: int, finding: str | None) -> None:
        if finding is None:
            return
        ids = [f.id for f in self._report(conn, run_id).findings]
        if finding not in ids:
            raise InputError(f"Run {run_id} has no finding {finding!r}; its findings: {ids}.")
