"""The chain's anchors: signed heads in the database, a signed anchor file outside it, the ledger's
own Ed25519 key, and the checks that keep a forged or shortened chain from being laundered.

A hash chain alone proves nothing against someone who can write the database: they can rewrite an
event and recompute every later hash, or delete the newest events, and the chain is valid again.
Three things close that gap (the construction of Crosby & Wallach, "Efficient Data Structures for
Tamper-Evident Logging", USENIX Security 2009: a signed commitment to the head, checked by whoever
holds the verification key, plus an external copy of the latest head):

- **The ledger's key.** One Ed25519 key per ledger, in a file readable by its owner only
  (``REVIEW_BOARD_LEDGER_KEY``, default ``home_dir()/keys/ledger-<hash of the URL>.pem``), created
  with the ledger's first event; its public key is registered in the chain (``ledger_keys``). For a
  shared PostgreSQL board the file lives on the host that administers the board, and every write
  goes through a process that can read it.
- **Signed heads.** Every write ends, in the same transaction, with a ``heads`` row: the new head's
  sequence number and hash, and the hash of every event the write appended, signed with the
  ledger's key. Someone without the key cannot sign a head for a rewritten chain; the first event
  whose hash differs from a signed one names the forged event.
- **The anchor file** (``REVIEW_BOARD_ANCHOR``, default ``home_dir()/anchors/<hash>.json``) holds
  the newest signed head outside the database, so that deleting the newest events (and their
  heads) is detected. It only moves forward.

Before any write the chain must verify from the anchored head to the current head
(:func:`check_before_write`); a break refuses the write with :class:`LedgerRefused` (an
:class:`~audits.core.errors.InputError`: the command line exits 2) naming the row, and nothing is
written. A missing key or anchor refuses writes and fails ``verify`` until an administrator
re-anchors the ledger (``review-board ledger reanchor``), which is itself a chained event that
records what it accepted (the problems ``verify`` found and the signed heads that no longer match,
which are not checked afterwards; every other head still is, by the key the chain registered
under its fingerprint). Someone who holds the key *and* can write the database can still forge
a chain: the key is the root of trust.
"""

from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path

import sqlalchemy as sa

from audits.core.errors import InputError
from audits.core.paths import home_dir
from reports.ledger import chain, keys
from reports.ledger import schema as S

__all__ = ["LedgerRefused", "key_path_for", "anchor_path_for", "registered_keys",
           "register_key", "seal_head", "read_anchor", "write_anchor", "check_before_write",
           "check_empty", "anchor_problems_all", "reanchor_rows", "accepted_heads", "failing_heads",
           "REANCHOR_HINT"]

REANCHOR_HINT = ("an administrator who has checked the ledger can re-anchor it: review-board "
                 "ledger reanchor")


class LedgerRefused(InputError):
    """A write refused because the ledger was changed outside the board's commands (or its key or
    anchor is missing). Nothing was written; the message names the row."""


def _url_key(display_url: str) -> str:
    return S.sha256_text(display_url)[:16]


def key_path_for(display_url: str) -> Path:
    """``REVIEW_BOARD_LEDGER_KEY``, else ``home_dir()/keys/ledger-<hash of the URL>.pem``."""
    env = os.environ.get("REVIEW_BOARD_LEDGER_KEY")
    return Path(env) if env else home_dir() / "keys" / f"ledger-{_url_key(display_url)}.pem"


def anchor_path_for(display_url: str) -> Path:
    """``REVIEW_BOARD_ANCHOR``, else ``home_dir()/anchors/<hash of the URL>.json``."""
    env = os.environ.get("REVIEW_BOARD_ANCHOR")
    return Path(env) if env else home_dir() / "anchors" / f"{_url_key(display_url)}.json"


# -- the ledger's key --------------------------------------------------------------------------
def registered_keys(conn) -> dict[str, str]:
    """Fingerprint -> public key (base64) of every ledger key the chain registered."""
    return {r.fingerprint: r.public_key for r in conn.execute(
        sa.select(S.ledger_keys.c.fingerprint, S.ledger_keys.c.public_key)
        .order_by(S.ledger_keys.c.id))}


def register_key(conn, key, *, reason: str, by: str | None) -> None:
    chain.append(conn, "ledger_keys", {"fingerprint": keys.fingerprint(key),
                                       "public_key": keys.public_b64(key), "reason": reason,
                                       "at": chain.now(), "by": by},
                 kind="ledger_key", run_id=None, actor=by)


# -- statements --------------------------------------------------------------------------------
def _head_statement(h: dict, first: str) -> dict:
    return {"kind": "head", "ledger": first, "seq": h["seq"], "hash": h["hash"],
            "events": json.loads(h["events"]) if isinstance(h["events"], str) else h["events"],
            "key": h["key_fingerprint"], "at": h["at"]}


def _anchor_statement(a: dict) -> dict:
    return {"kind": "anchor", "ledger": a.get("first"), "seq": a.get("seq"),
            "hash": a.get("hash"), "key": a.get("key"), "at": a.get("at")}


def _first_hash(conn) -> str | None:
    return conn.execute(sa.select(S.events.c.hash).where(S.events.c.seq == 1)).scalar()


def seal_head(conn, key, *, since: int, url: str) -> dict | None:
    """Sign the head after a write that appended the events after ``since``: insert its ``heads``
    row; return the anchor (for the file), or None when nothing was appended."""
    new = [(r.seq, r.hash) for r in conn.execute(
        sa.select(S.events.c.seq, S.events.c.hash).where(S.events.c.seq > since)
        .order_by(S.events.c.seq))]
    if not new:
        return None
    first = _first_hash(conn)
    at = chain.now()
    h = {"seq": new[-1][0], "hash": new[-1][1], "events": [list(x) for x in new],
         "key_fingerprint": keys.fingerprint(key), "at": at}
    signature = keys.sign(key, _head_statement(h, first))
    conn.execute(sa.insert(S.heads).values(**h | {"events": json.dumps(h["events"]),
                                                  "signature": signature}))
    anchor = {"url": url, "first": first, "seq": h["seq"], "hash": h["hash"],
              "key": h["key_fingerprint"], "at": at}
    return anchor | {"signature": keys.sign(key, _anchor_statement(anchor))}


# -- the anchor file ---------------------------------------------------------------------------
def read_anchor(path: Path) -> dict | None:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return {"corrupt": True}
    ok = isinstance(data, dict) and isinstance(data.get("seq"), int) and \
        not isinstance(data.get("seq"), bool) and isinstance(data.get("hash"), str)
    return data if ok else {"corrupt": True}


def write_anchor(path: Path, anchor: dict, *, force: bool = False) -> None:
    """Move the anchor file forward to ``anchor``; never backwards (a slower writer that committed
    earlier must not roll it back) unless ``force`` (a re-anchoring)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        current = read_anchor(path)
        if not force and current and not current.get("corrupt") and \
                current.get("first") == anchor["first"] and current.get("seq", 0) >= anchor["seq"]:
            return
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(anchor | {"updated_at": chain.now()}, indent=1),
                       encoding="utf-8")
        os.replace(tmp, path)


# -- checks ------------------------------------------------------------------------------------
def reanchor_rows(conn) -> list[dict]:
    return [dict(r) for r in conn.execute(sa.select(S.reanchors).order_by(S.reanchors.c.id))
            .mappings()]


def accepted_heads(reanchors: list[dict]) -> set[int]:
    """Ids of the signed heads that re-anchorings accepted as no longer matching the chain."""
    return {i for r in reanchors for i in json.loads(r["heads_accepted"])}


def _head_problems(conn, by_seq: dict[int, dict], top: int, pub, fpr: str | None, *,
                   accepted: set[int], latest_only: bool) -> list[str]:
    """Signed heads (except those a re-anchoring accepted): each signature, by the key the chain
    registered under its fingerprint (the newest by the ledger's key file ``pub``), the newest
    covering the top event, and every event hash they signed still in the chain."""
    q = sa.select(S.heads)
    if accepted:
        q = q.where(S.heads.c.id.not_in(sorted(accepted)))
    q = q.order_by(S.heads.c.seq.desc(), S.heads.c.id.desc()).limit(1) if latest_only else \
        q.order_by(S.heads.c.id)
    rows = [dict(r) for r in conn.execute(q).mappings()]
    first = by_seq[1]["hash"] if 1 in by_seq else None
    if not rows:
        return [f"events rows seq=1 to seq={top} are not covered by a signed head (written "
                f"outside the board's commands, or before heads were signed); {REANCHOR_HINT}."]
    registered = {k: keys.public_from_b64(v) for k, v in registered_keys(conn).items()}
    newest = max(rows, key=lambda h: (h["seq"], h["id"]))
    problems, rewritten, beyond = [], None, 0
    for h in rows:
        signer = pub if h is newest else registered.get(h["key_fingerprint"])
        if (h is newest and h["key_fingerprint"] != fpr) or signer is None or \
                not keys.check(signer, _head_statement(h, first), h["signature"]):
            problems.append(f"heads row id={h['id']} (the signed head at event seq={h['seq']}) "
                            f"was edited or forged: its signature does not verify with "
                            f"{'the ledger' if h is newest else 'a'} key the ledger "
                            f"registered ({fpr if h is newest else h['key_fingerprint']}).")
            continue
        for seq, hash_ in json.loads(h["events"]):
            e = by_seq.get(seq)
            if e is None:
                beyond = max(beyond, seq) if seq > top else beyond
            elif e["hash"] != hash_ and (rewritten is None or seq < rewritten[0]):
                rewritten = (seq, h["seq"])
    if newest["seq"] < top:
        problems.append(f"events rows seq={newest['seq'] + 1} to seq={top} are not covered by a "
                        "signed head: they were written outside the board's commands.")
    if beyond:
        problems.append(f"events rows seq={top + 1} to seq={beyond} are missing: the ledger "
                        f"signed a head at seq={beyond}, the chain ends at seq={top} (the newest "
                        "events were deleted).")
    if rewritten:
        problems.append(f"events row seq={rewritten[0]} was rewritten: its hash differs from the "
                        f"one the ledger signed in the head at seq={rewritten[1]} (a forged "
                        "event, with the hashes after it recomputed).")
    return problems


def failing_heads(conn) -> list[int]:
    """Ids of the signed heads that no longer check out (for a re-anchoring to accept)."""
    rows = chain.event_rows(conn)
    by_seq = {e["seq"]: e for e in rows}
    top = rows[-1]["seq"] if rows else 0
    first = by_seq[1]["hash"] if 1 in by_seq else None
    registered = {k: keys.public_from_b64(v) for k, v in registered_keys(conn).items()}
    out = []
    for h in conn.execute(sa.select(S.heads).order_by(S.heads.c.id)).mappings():
        h = dict(h)
        signer = registered.get(h["key_fingerprint"])
        ok = signer is not None and keys.check(signer, _head_statement(h, first), h["signature"])
        ok = ok and all(seq <= top and by_seq.get(seq, {}).get("hash") == hash_
                        for seq, hash_ in json.loads(h["events"]))
        if not ok:
            out.append(h["id"])
    return out


def _anchor_problems(anchor: dict | None, path: Path, by_seq: dict[int, dict], top: int, pub,
                     fpr: str | None, reanchors: list[dict]) -> list[str]:
    if anchor is None:
        return [f"events row seq={top}: there is no anchor file at {path}, so deleting the "
                f"newest events could not be detected. Restore the file from a backup; "
                f"{REANCHOR_HINT}."]
    if anchor.get("corrupt"):
        return [f"The anchor file {path} is unreadable; restore it from a backup; "
                f"{REANCHOR_HINT}."]
    if not anchor.get("signature"):
        return [f"The anchor file {path} is not signed (written before anchors were signed, or "
                f"replaced): the head it records (event seq={anchor.get('seq')}) cannot be "
                f"trusted; {REANCHOR_HINT}."]
    if pub is not None and (anchor.get("key") != fpr or
                            not keys.check(pub, _anchor_statement(anchor), anchor["signature"])):
        return [f"The anchor file {path} was edited or forged: its signature does not verify "
                f"with the ledger's key {fpr}."]
    first = by_seq.get(1, {}).get("hash")
    if anchor.get("first") and first and anchor["first"] != first:
        return [f"events row seq=1 differs from the anchor {path}: this is not the ledger the "
                "anchor records (replaced or rewritten)."]
    seq = anchor.get("seq", 0)
    if seq > top:
        return [f"events rows seq={top + 1} to seq={seq} are missing: the anchor {path} records "
                f"event {seq}, the ledger ends at {top} (the newest events were deleted)."]
    at = by_seq.get(seq)
    if at is not None and at["hash"] != anchor.get("hash") and \
            not any(r["seq"] >= seq for r in reanchors):
        return [f"events row seq={seq} differs from the anchor {path} (the chain was "
                "rewritten)."]
    return []


def check_empty(conn, anchor_path: Path, url: str) -> None:
    """Before the first write of an empty ledger: refuse when its anchor records events (every
    event was deleted)."""
    anchor = read_anchor(anchor_path)
    if anchor and (anchor.get("corrupt") or anchor.get("seq", 0) > 0):
        raise LedgerRefused(
            f"The ledger {url} is empty, but its anchor {anchor_path} records "
            f"{anchor.get('seq', 'some')} events: events rows seq=1 to seq={anchor.get('seq')} "
            f"were deleted. Nothing was written. Restore the database from a backup, or, to "
            f"start a new ledger on purpose, remove the anchor file or {REANCHOR_HINT}.")


def _load_key_for_check(key_path: Path):
    try:
        return keys.load_key(key_path), None
    except InputError as e:
        return None, str(e)


def check_before_write(conn, key, *, key_path: Path, anchor_path: Path, url: str) -> None:
    """Under the write lock, before a write: the key is this ledger's, the newest signed head
    covers the chain's head, the anchor file is signed and matches, and the chain verifies from the
    anchored head to the current one.

    Raises
    ------
    LedgerRefused
        Naming the first row that breaks, with what to do; nothing is written.
    """
    def refuse(problem: str) -> None:
        raise LedgerRefused(f"The ledger {url} was changed outside the board's commands, so "
                            f"nothing was written: {problem} Run review-board ledger verify for "
                            "the full report.")

    if key is None:
        raise LedgerRefused(
            f"The ledger's key {key_path} is missing, so this write could not be signed and "
            f"nothing was written. Restore the key from your backup (REVIEW_BOARD_LEDGER_KEY "
            f"names its path), or {REANCHOR_HINT} (with a new key).")
    fpr = keys.fingerprint(key)
    registered = registered_keys(conn)
    if fpr not in registered:
        raise LedgerRefused(
            f"The key {key_path} ({fpr}) is not this ledger's key (it registered "
            f"{', '.join(registered) or 'none'}), so nothing was written. Restore the ledger's "
            f"own key, or {REANCHOR_HINT}.")
    pub = key.public_key()
    anchor = read_anchor(anchor_path)
    since = anchor.get("seq", 1) if anchor and not anchor.get("corrupt") else 1
    segment = chain.event_rows(conn, since=min(max(int(since or 1), 1), chain.head(conn)[0]))
    by_seq = {e["seq"]: e for e in segment}
    by_seq.setdefault(1, {"seq": 1, "hash": _first_hash(conn)})
    top = segment[-1]["seq"] if segment else chain.head(conn)[0]
    reanchors = reanchor_rows(conn)
    accepted = accepted_heads(reanchors)
    problems = _head_problems(conn, by_seq, top, pub, fpr, accepted=accepted, latest_only=True)
    if any("was rewritten" in p for p in problems):  # name the forged event: every hash needed
        all_events = {e["seq"]: e for e in chain.event_rows(conn)}
        problems = _head_problems(conn, all_events, top, pub, fpr, accepted=accepted,
                                  latest_only=False)
    problems += _anchor_problems(anchor, anchor_path, by_seq, top, pub, fpr, reanchors)
    if not problems and segment:
        problems += chain.chain_problems(segment, start_prev=None)
        problems += chain.row_problems(conn, segment, complete=False)
    if problems:
        refuse(problems[0])


def anchor_problems_all(conn, rows: list[dict], *, key_path: Path, anchor_path: Path
                        ) -> tuple[list[str], list[str], str | None]:
    """For ``ledger verify``: the key, every signed head after the last re-anchoring, and the
    anchor file, against all the events ``rows``. Returns (problems, notes, key fingerprint)."""
    problems, notes = [], []
    if not rows:
        return problems, notes, None
    top = rows[-1]["seq"]
    key, unreadable = _load_key_for_check(key_path)
    fpr = keys.fingerprint(key) if key is not None else None
    pub = None
    if unreadable:
        problems.append(f"events row seq={top}: {unreadable}")
    elif key is None:
        problems.append(f"events row seq={top}: the ledger's key {key_path} is missing, so its "
                        f"signed heads and anchor cannot be checked. Restore the key from your "
                        f"backup (REVIEW_BOARD_LEDGER_KEY names its path), or {REANCHOR_HINT} "
                        "(with a new key).")
    else:
        registered = registered_keys(conn)
        if fpr not in registered:
            problems.append(f"The key {key_path} ({fpr}) is not this ledger's key: the ledger "
                            f"registered {', '.join(registered) or 'none'}. Restore its own key.")
        else:
            pub = key.public_key()
        if keys.loose_permissions(key_path):
            notes.append(f"The ledger's key {key_path} is readable by others: make it readable "
                         f"by its owner only (chmod 600 {key_path}).")
    by_seq = {e["seq"]: e for e in rows}
    reanchors = reanchor_rows(conn)
    if pub is not None:
        problems += _head_problems(conn, by_seq, top, pub, fpr,
                                   accepted=accepted_heads(reanchors), latest_only=False)
    problems += _anchor_problems(read_anchor(anchor_path), anchor_path, by_seq, top, pub, fpr,
                                 reanchors)
    for r in reanchors:
        accepted = json.loads(r["accepted"])
        notes.append(f"Re-anchored at event seq={r['seq']} on {r['at']} by {r['by'] or 'unknown'}"
                     f" ({r['reason']}), with key {r['key_fingerprint']}; it accepted "
                     f"{len(accepted)} problem(s) found then"
                     + (": " + " | ".join(accepted) if accepted else "."))
    return problems, notes, fpr
