"""Members' signatures on the board's acts, and checking them against the roster's public keys.

Every vote and decision is signed, in the same transaction, by the member who made it: an
Ed25519 signature (RFC 8032) over a statement that names the ledger, the run, the report's id and
the SHA-256 of its stored JSON, the signer, their role, the key, how they signed in (a local
account's own key, or single sign-on with the app host's key, the identity provider's issuer and
subject recorded) and every event the act appended (its sequence number, kind, row, row hash and
event hash: the vote or decision row, its attestation in ``signatures``, conditions, status
changes). The statement and the signature are stored in ``user_signatures``, itself a chained row.

:func:`check_signatures` recomputes each statement's claims from the ledger as it is now and
checks the signature with the public key the roster held for that fingerprint, valid (registered,
not yet revoked) when the signature was made. A signature, a signer's public key or a signed
event altered afterwards makes it fail, and ``verify`` names it. Votes and decisions from before
signing began carry no signature: they are reported as unsigned, not as failures.
"""

from __future__ import annotations

import json

import sqlalchemy as sa

from reports.ledger import chain, keys
from reports.ledger import roster as R
from reports.ledger import schema as S

__all__ = ["SIGNED_KINDS", "sign_act", "check_signatures", "unsigned_events",
           "signature_problems"]

#: Event kinds that carry a member's signature (since signing began).
SIGNED_KINDS = ("vote", "decision", "signature")


def _first(conn) -> str | None:
    return conn.execute(sa.select(S.events.c.hash).where(S.events.c.seq == 1)).scalar()


def sign_act(conn, session, *, run_id: int, act: str, role: str, since: int) -> int:
    """Sign the events appended after ``since`` (one act of ``session``'s member on ``run_id``)
    and append the signature; returns the ``user_signatures`` row id."""
    appended = chain.event_rows(conn, since=since + 1)
    run = conn.execute(sa.select(S.runs.c.report_id, S.runs.c.report_sha256)
                       .where(S.runs.c.id == run_id)).one()
    at = chain.now()
    statement = {
        "kind": "board-signature", "ledger": _first(conn), "run_id": run_id,
        "report_id": run.report_id, "report_sha256": run.report_sha256, "act": act,
        "signer": session.name, "role": role, "method": session.method,
        "issuer": session.issuer, "subject": session.subject, "key": session.key_fingerprint,
        "at": at,
        "events": [{"seq": e["seq"], "kind": e["kind"], "table": e["row_table"],
                    "row_id": e["row_id"], "row_hash": e["row_hash"], "hash": e["hash"]}
                   for e in appended]}
    rid, _ = chain.append(conn, "user_signatures", {
        "run_id": run_id, "signer": session.name, "role": role,
        "key_fingerprint": session.key_fingerprint, "method": session.method,
        "issuer": session.issuer, "subject": session.subject,
        "statement": S.canonical(statement).decode("utf-8"),
        "signature": keys.sign(session.key, statement), "at": at},
        kind="user_signature", run_id=run_id, actor=session.name, at=at)
    return rid


_COLUMNS = {"signer": "signer", "role": "role", "key_fingerprint": "key", "method": "method",
            "issuer": "issuer", "subject": "subject", "run_id": "run_id", "at": "at"}


def _why_not(row: dict, seq: int, statement: dict, events: dict[int, dict], runs: dict,
             rows: dict, roster: R.Roster) -> str | None:
    """Why a signature fails, in words, or None when it verifies."""
    for col, key in _COLUMNS.items():
        if row[col] != statement.get(key):
            return (f"the signature row's {col} ({row[col]!r}) differs from what was signed "
                    f"({statement.get(key)!r})")
    run = runs.get(statement.get("run_id"))
    if run is None or (run["report_id"], run["report_sha256"]) != \
            (statement.get("report_id"), statement.get("report_sha256")):
        return f"the report of run {statement.get('run_id')} differs from the one signed"
    for ev in statement.get("events", []):
        cur = events.get(ev["seq"])
        if cur is None or (cur["kind"], cur["row_table"], cur["row_id"], cur["row_hash"],
                           cur["hash"]) != (ev["kind"], ev["table"], ev["row_id"],
                                            ev["row_hash"], ev["hash"]):
            return f"the signed event seq={ev['seq']} ({ev['kind']}) was altered or deleted"
        if ev["table"]:
            current = rows.get((ev["table"], ev["row_id"]))
            if current is None or S.row_hash(ev["table"], current) != ev["row_hash"]:
                return (f"the {ev['table']} row id={ev['row_id']} (event seq={ev['seq']}) was "
                        "altered after it was signed")
    rec = roster.keys.get(row["key_fingerprint"])
    if rec is None:
        return f"the roster holds no key {row['key_fingerprint']}"
    if row["method"] == "password" and (rec.kind != "user" or rec.owner != row["signer"]):
        return f"the key {rec.fingerprint} is not {row['signer']}'s"
    if row["method"] == "sso" and rec.kind != "host":
        return f"the key {rec.fingerprint} is not a registered host key"
    if not rec.valid_at(seq):
        return (f"the key {rec.fingerprint} was not valid when it signed (registered "
                f"{rec.registered_at}, revoked {rec.revoked_at or 'never'})")
    if not keys.check(rec.public_key, statement, row["signature"]):
        return (f"the signature does not verify with {row['signer']}'s public key "
                f"{rec.fingerprint} (the signature, the key or the signed statement was altered)")
    return None


def check_signatures(conn, *, run_id: int | None = None) -> list[dict]:
    """Every member's signature (of one run, or all), checked: one dict each with ``id``,
    ``seq``, ``run_id``, ``signer``, ``role``, ``at``, ``act``, ``key_fingerprint``, ``method``,
    ``issuer``, ``subject``, ``covers`` (the signed events' sequence numbers), ``status``
    ("verified" or "failed") and ``reason``."""
    t = S.user_signatures
    q = (sa.select(t, S.events.c.seq)
         .join(S.events, (S.events.c.row_table == "user_signatures")
               & (S.events.c.row_id == t.c.id), isouter=True).order_by(t.c.id))
    if run_id is not None:
        q = q.where(t.c.run_id == run_id)
    sigs = [dict(r) for r in conn.execute(q).mappings()]
    if not sigs:
        return []
    roster = R.load_roster(conn)
    runs = {r["id"]: dict(r) for r in conn.execute(
        sa.select(S.runs.c.id, S.runs.c.report_id, S.runs.c.report_sha256)).mappings()}
    wanted: dict[str, set] = {}
    parsed = []
    for g in sigs:
        try:
            statement = json.loads(g["statement"])
        except ValueError:
            statement = None
        parsed.append(statement)
        for ev in (statement or {}).get("events", []):
            if ev.get("table"):
                wanted.setdefault(ev["table"], set()).add(ev["row_id"])
    seqs = sorted({ev["seq"] for st in parsed for ev in (st or {}).get("events", [])})
    events = {}
    for i in range(0, len(seqs), 500):  # only the signed events (bounded IN lists)
        events |= {e["seq"]: dict(e) for e in conn.execute(sa.select(S.events).where(
            S.events.c.seq.in_(seqs[i:i + 500]))).mappings()}
    rows = {}
    for table, ids in wanted.items():
        tt, ids = S.ROW_TABLES.get(table), sorted(ids)
        for i in range(0, len(ids) if tt is not None else 0, 500):
            for r in conn.execute(sa.select(tt).where(tt.c.id.in_(ids[i:i + 500]))).mappings():
                rows[(table, r["id"])] = dict(r)
    out = []
    for g, statement in zip(sigs, parsed):
        seq = g["seq"] or 0
        reason = ("the signed statement is unreadable" if statement is None else
                  _why_not(g, seq, statement, events, runs, rows, roster))
        out.append({"id": g["id"], "seq": g["seq"], "run_id": g["run_id"], "signer": g["signer"],
                    "role": g["role"], "at": g["at"], "act": (statement or {}).get("act"),
                    "key_fingerprint": g["key_fingerprint"], "method": g["method"],
                    "issuer": g["issuer"], "subject": g["subject"],
                    "covers": [e["seq"] for e in (statement or {}).get("events", [])],
                    "status": "failed" if reason else "verified", "reason": reason})
    return out


def unsigned_events(conn, checked: list[dict], *, run_id: int | None = None) -> list[dict]:
    """Votes, decisions and attestations no member's signature covers (``seq``, ``kind``,
    ``run_id``), oldest first."""
    covered = {s for c in checked for s in c["covers"]}
    q = sa.select(S.events.c.seq, S.events.c.kind, S.events.c.run_id).where(
        S.events.c.kind.in_(SIGNED_KINDS)).order_by(S.events.c.seq)
    if run_id is not None:
        q = q.where(S.events.c.run_id == run_id)
    return [dict(r) for r in conn.execute(q).mappings() if r["seq"] not in covered]


def signature_problems(conn) -> tuple[list[str], list[str], list[dict]]:
    """For ``verify``: (problems, notes, checked signatures). A failed signature is a problem; an
    unsigned vote or decision is a note when it comes before the first signature (recorded before
    signing began), a problem after it."""
    checked = check_signatures(conn)
    problems = [f"user_signatures row id={c['id']} (event seq={c['seq']}): {c['signer']}'s "
                f"signature of the {c['act']} on run {c['run_id']} fails: {c['reason']}."
                for c in checked if c["status"] == "failed"]
    began = min((c["seq"] for c in checked if c["seq"]), default=None)
    notes = []
    before = []
    for e in unsigned_events(conn, checked):
        if began is None or e["seq"] < began:
            before.append(e["seq"])
        else:
            problems.append(f"events row seq={e['seq']} ({e['kind']} on run {e['run_id']}) "
                            "carries no member's signature, although signing had begun.")
    if before:
        notes.append(f"{len(before)} vote, decision or attestation event(s) were recorded before "
                     f"signing began and are unsigned (events seq={before[0]} to "
                     f"seq={before[-1]}).")
    if checked:
        ok = sum(c["status"] == "verified" for c in checked)
        notes.append(f"{ok} of {len(checked)} member signature(s) verified.")
    return problems, notes, checked
