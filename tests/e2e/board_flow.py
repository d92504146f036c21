"""The board's meeting in real browsers (issue 13, phase 2), on the app server of the end-to-end
flow (``tests/e2e/browser_flow.py``): one server, one audit (the light profile, cached on disk
after the first run), several members each in their own browser context (their own session).

The server is set up as an operator would (:func:`serving`): a board created through the engine as
``review-board users add`` would (an administrator; a submitter, reviewers A, B and C and a chair
with temporary passwords; reviewer D with an e-mail only, for single sign-on), the identity
provider trusted (``sso_issuers``) and this host's key registered; both identity back-ends on
(``REVIEW_BOARD_IDENTITY=local,sso``); single sign-on through a real OpenID Connect provider on
localhost (``oidc-provider-mock``, run in a thread) configured in a ``secrets.toml`` written for
the test (``--secrets.files``).

The meeting (:func:`meeting`), every act in the browser unless said otherwise:

1. the submitter signs in (choosing their own password in the app), records and submits the
   audit, and signs out;
2. reviewer D signs in through the identity provider (signing in again if the app's server timed
   out reaching it: ``_sign_in_sso``), and reviewers A, B and C with their local accounts (each
   choosing their own password), each in their own context, each loading the audit, which must
   be the stored one the submitter recorded (``_with_audit``); the chair signs in on the meeting
   room's browser (the flow's own page);
3. all four reviewers type a comment on the same finding, then click at the same moment;
4. reviewer A records the finding's disposition (the other findings that need one are disposed
   of through the engine with A's key, as ``review-board dispose`` would: thirteen browser forms
   would add a minute);
5. the chair starts typing the decision's reason; all four reviewers vote at the same moment (A
   and B declaring independence: the quorum of 2); the chair's page follows the ledger (the tally
   and the comments appear) while the reason stays as typed;
6. the chair records the decision (reject), with that reason.

Screenshots: the Review page signed in, with what is missing, signed in through single sign-on,
where the board stands before the decision, and decided.
"""

from __future__ import annotations

import os
import secrets
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

#: The board of the flow's ledger.
ADMIN_PASSWORD = "e2e administrator passphrase"
TEMPORARY = "e2e temporary passphrase"
SUBMITTER = "E2E Submitter"
CHAIR = "E2E Chair"
LOCAL_REVIEWERS = ("E2E Reviewer A", "E2E Reviewer B", "E2E Reviewer C")
SSO_REVIEWER = "E2E Reviewer D"
SSO_EMAIL = "reviewer.d@example.com"
SSO_SUBJECT = "idp-user-4711"
INDEPENDENT = ("E2E Reviewer A", "E2E Reviewer B")  # the quorum of 2
FID = "fairness.disparate_impact.ethnicity"  # planted: fails on churn
VOTES = {"E2E Reviewer A": "Reject", "E2E Reviewer B": "Reject",
         "E2E Reviewer C": "Approve with conditions", SSO_REVIEWER: "Reject"}
CHAIR_NOTE = "Rejected: ethnicity's disparate impact through postcode_region (typed early)."


def own_password(name: str) -> str:
    return f"{name.lower()} own passphrase"


@dataclass
class Server:
    url: str
    home: Path
    ledger: object
    idp: str
    host_key: str


@contextmanager
def serving(home: Path, *, running_app, ledger_env, free_port):
    """The identity provider, the board and the app, for the length of the block.

    ``running_app``, ``ledger_env`` and ``free_port`` are the end-to-end flow's own helpers
    (passed in, so that the two modules do not import each other)."""
    from oidc_provider_mock import User, run_server_in_thread

    from reports.ledger import Ledger

    claims = User(sub=SSO_SUBJECT, claims={"email": SSO_EMAIL, "email_verified": True,
                                           "name": SSO_REVIEWER})
    with run_server_in_thread(user_claims=[claims]) as idp_server:
        idp = f"http://localhost:{idp_server.server_port}"
        env = ledger_env(home) | {"REVIEW_BOARD_HOST_KEY": str(home / "keys" / "host.pem"),
                                  "REVIEW_BOARD_IDENTITY": "local,sso"}
        ledger = Ledger(env["REVIEW_BOARD_DB"], anchor=env["REVIEW_BOARD_ANCHOR"],
                        key=env["REVIEW_BOARD_LEDGER_KEY"])
        ledger.add_user("admin", roles=["administrator"], password=ADMIN_PASSWORD)
        admin = ledger.sign_in("admin", ADMIN_PASSWORD)
        for name, role in ((SUBMITTER, "submitter"), (CHAIR, "chair"),
                           *((n, "reviewer") for n in LOCAL_REVIEWERS)):
            ledger.add_user(name, roles=[role], password=TEMPORARY, by=admin)
        ledger.add_user(SSO_REVIEWER, roles=["reviewer"], email=SSO_EMAIL, by=admin)
        ledger.set_setting("sso_issuers", [idp], by=admin)
        host = ledger.register_host_key(label="e2e host", by=admin,
                                        path=env["REVIEW_BOARD_HOST_KEY"])
        port = free_port()
        secrets_file = home / "secrets.toml"
        secrets_file.write_text(
            "[auth]\n"
            f'redirect_uri = "http://localhost:{port}/oauth2callback"\n'
            f'cookie_secret = "{secrets.token_urlsafe(32)}"\n'
            'client_id = "review-board-e2e"\n'
            f'client_secret = "{secrets.token_urlsafe(16)}"\n'
            f'server_metadata_url = "{idp}/.well-known/openid-configuration"\n',
            encoding="utf-8")
        os.chmod(secrets_file, 0o600)
        with running_app(home, port=port, env=env,
                         args=("--secrets.files", str(secrets_file))) as url:
            yield Server(url=url, home=home, ledger=ledger, idp=idp,
                         host_key=host["fingerprint"])


@dataclass
class Meeting:
    """What the meeting left, for the tests to check."""

    run: int = 0
    host_key: str = ""
    screenshots: dict[str, Path] = field(default_factory=dict)
    comments: list[dict] = field(default_factory=list)
    board: dict = field(default_factory=dict)
    verify_ok: bool = False
    verify_problems: list[str] = field(default_factory=list)
    chair_saw: dict = field(default_factory=dict)
    sso_signed_in: str = ""
    sso_attempts: int = 0
    external_requests: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)


def meeting(browser, page, server: Server, out_dir: Path, flow) -> Meeting:
    """Run the meeting; ``page`` is the flow's own page (the submitter's, with the audit run and
    the Review page open); ``flow`` the module ``tests.e2e.browser_flow`` (its helpers). When it
    stops, every member's page is photographed (``failed-<member>.png``)."""
    m = Meeting(host_key=server.host_key)
    pages: dict = {}
    try:
        _meeting(m, browser, page, server, out_dir, flow, pages)
    except Exception:
        for name, p in pages.items():
            try:
                flow._shot(p, out_dir, f"failed-{name.split()[-1].lower()}")
            except Exception:  # noqa: BLE001 - the photograph is only a help
                pass
        raise
    finally:
        for p in pages.values():
            p.context.close()
    return m


def _meeting(m: Meeting, browser, page, server: Server, out_dir: Path, flow,
             pages: dict) -> None:
    import time

    start = time.perf_counter()

    # 1. the submitter
    _sign_in_local(page, SUBMITTER, flow)
    page.get_by_role("button", name="Record this audit in the ledger").click()
    flow._settle(page)
    page.get_by_role("button", name="Submit to the board").click()
    page.get_by_text("it is frozen", exact=False).first.wait_for(timeout=60_000)
    flow._settle(page)
    m.screenshots["review-signed-in"] = flow._shot(page, out_dir, "7-review-signed-in")
    m.run = server.ledger.runs()[-1]["id"]

    # 2. the reviewers and the chair, each in their own browser context
    # (single sign-on first, while the app serves fewer sessions: see _sign_in_sso)
    sso = pages[SSO_REVIEWER] = _member(browser, server, m, flow)
    m.sso_attempts = _sign_in_sso(sso, flow)
    _with_audit(sso, flow, m.run)
    for name in LOCAL_REVIEWERS:
        pages[name] = _member(browser, server, m, flow)
        _with_audit(pages[name], flow, m.run)
        _sign_in_local(pages[name], name, flow)
    sso.get_by_text(f"Signed in as {SSO_REVIEWER}", exact=False).first.wait_for(timeout=60_000)
    m.sso_signed_in = sso.get_by_text(f"Signed in as {SSO_REVIEWER}", exact=False).first \
        .inner_text()
    m.screenshots["review-sso"] = flow._shot(sso, out_dir, "7-review-sso")
    # the chair takes over the meeting room's browser, where the submitter signed out
    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("textbox", name="Your account on the board", exact=True).wait_for(
        timeout=60_000)
    flow._idle(page, 60_000)
    _sign_in_local(page, CHAIR, flow)
    chair = page
    m.seconds["members signed in"] = time.perf_counter() - start
    voters = {n: pages[n] for n in (*LOCAL_REVIEWERS, SSO_REVIEWER)}

    # 3. four comments on one finding, at the same moment
    for name, p in voters.items():
        _finding(p, FID).get_by_role("textbox", name="Comment", exact=True).fill(
            f"{name}: region stands in for ethnicity.")
    for p in voters.values():
        _finding(p, FID).get_by_role("button", name="Add the comment").click()
    _until_ledger(lambda: len([c for c in server.ledger.board_record(m.run)["comments"]
                               if c["finding"] == FID]) >= len(voters))
    for p in voters.values():
        p.get_by_text("Comment recorded on run", exact=False).first.wait_for(timeout=60_000)
        flow._idle(p, 60_000)

    # 4. dispositions: FID in the browser, the others through the engine with A's key
    a = voters[LOCAL_REVIEWERS[0]]
    box = _finding(a, FID)
    box.get_by_role("textbox", name="Owner", exact=True).fill("DS team")
    box.get_by_role("textbox", name="Note", exact=True).fill("Retrain without postcode_region.")
    box.get_by_role("button", name="Record the disposition").click()
    a.get_by_text(f"{FID}: mitigate recorded", exact=False).first.wait_for(timeout=60_000)
    flow._idle(a, 60_000)
    signed = server.ledger.sign_in(LOCAL_REVIEWERS[0], own_password(LOCAL_REVIEWERS[0]))
    for f in server.ledger.report(m.run).findings:
        if f.severity.value in ("fail", "attention") and f.id != FID:
            server.ledger.dispose(m.run, f.id, "accept", by=signed, owner="DS team",
                                  due="2027-01-31")

    # 5. the chair types the reason early; four votes at the same moment
    _votes_tab(chair, flow)
    chair.get_by_text("the board still needs", exact=False).first.wait_for(timeout=60_000)
    m.screenshots["review-missing"] = flow._shot(chair, out_dir, "7-review-missing")
    reason = chair.get_by_role("textbox", name="Reason for the decision (required to overrule "
                               "the recommendation)", exact=True)
    reason.fill(CHAIR_NOTE)
    for name, p in voters.items():
        _votes_tab(p, flow)
        flow._select(p, "Your vote", VOTES[name])
        if name in INDEPENDENT:
            p.get_by_test_id("stCheckbox").get_by_text(
                "I am independent of the model's development team").click()
            p.get_by_role("textbox", name="Declaration of interests (in words)").fill(
                f"{name}: no part in the model.")
    for p in voters.values():
        p.get_by_role("button", name="Sign and record my vote").click()
    _until_ledger(lambda: len(server.ledger.board_record(m.run)["votes"]) >= len(voters))
    for p in voters.values():
        p.get_by_text("Vote recorded and signed by", exact=False).first.wait_for(timeout=60_000)
    # the chair's page follows the ledger on its own; the reason typed meanwhile stays
    chair.get_by_text("Quorum met: 2 of 2 independent votes", exact=False).first.wait_for(
        timeout=60_000)
    flow._idle(chair, 60_000)
    m.chair_saw = {"reason": reason.input_value(),
                   "comments": [chair.get_by_text(f"{n}: region stands in for ethnicity.",
                                                  exact=False).count() for n in voters],
                   "nothing_missing": chair.get_by_text("Nothing is missing", exact=False)
                   .count()}
    m.screenshots["review-standing"] = flow._shot(chair, out_dir, "7-review-standing")

    # 6. the decision
    flow._select(chair, "Board decision", "Reject")
    chair.get_by_role("button", name="Sign and record the decision").click()
    chair.get_by_text("Decision recorded", exact=False).first.wait_for(timeout=60_000)
    flow._idle(chair, 60_000)
    m.screenshots["review-decided"] = flow._shot(chair, out_dir, "7-review-decided")
    m.seconds["meeting"] = time.perf_counter() - start

    board = server.ledger.board_record(m.run)
    m.board = board
    m.comments = [c for c in board["comments"] if c["finding"] == FID]
    result = server.ledger.verify()
    m.verify_ok, m.verify_problems = result.ok, list(map(str, result.problems))


# -- steps --------------------------------------------------------------------------------------
def _until_ledger(done, timeout_s: float = 90.0) -> None:
    """Wait until the ledger shows what the browsers did (``done()`` true)."""
    import time

    deadline = time.monotonic() + timeout_s
    while not done():
        if time.monotonic() > deadline:
            raise TimeoutError("the ledger did not record what the browsers did in time")
        time.sleep(0.25)


def _press(page, button, shows, flow, tries: int = 3) -> None:
    """Click ``button`` until ``shows`` is visible, with patience for a loaded machine: a click
    that lands while a rerun replaces the button is done again."""
    error = flow._playwright_error()
    for attempt in range(tries):
        try:
            button.last.click(timeout=30_000)
            shows.wait_for(timeout=20_000)
            return
        except error:
            if attempt == tries - 1:
                raise
            flow._settle(page)


def _until_true(done, timeout_s: float) -> bool:
    """Poll ``done()`` for up to ``timeout_s`` seconds; return whether it came true."""
    import time

    deadline = time.monotonic() + timeout_s
    while not done():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


def _member(browser, server: Server, m: Meeting, flow):
    """A new browser context (a new session of the app), kept off the network: requests to any
    other host than this machine are refused and recorded with the page that made them."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    app = urlparse(server.url).netloc

    def route(r):
        if (urlparse(r.request.url).hostname or "") in flow.LOCAL_HOSTS:
            r.continue_()
        else:
            if urlparse(r.request.frame.url).netloc == app:
                m.external_requests.append(r.request.url)
            r.abort()
    context.route("**/*", route)
    page = context.new_page()
    page.on("pageerror", lambda e: m.page_errors.append(str(e)))
    page.goto(server.url)
    page.get_by_role("heading", level=1, name=flow.PAGES[0][1], exact=True).wait_for(
        timeout=60_000)
    flow._idle(page, 60_000)
    return page


def _with_audit(page, flow, run: int) -> None:
    """On the Load page, choose the churn sample (the default) with the light profile and run
    its audit, which must be the one the submitter recorded: loaded from the stored reports,
    never recomputed (a click lost while a rerun lands is done again); then open the Review page
    on run ``run``."""
    flow._open(page, *flow.PAGES[0])
    light = page.get_by_role("radio", name="Quick look", exact=False, checked=True)
    for _ in range(3):  # the radio's input is hidden behind its label: count, not visibility
        if light.count():
            break
        page.get_by_text("Quick look", exact=False).last.click(timeout=30_000)
        _until_true(lambda: light.count() > 0, timeout_s=10.0)
        flow._settle(page)
    assert light.count(), "the light profile could not be chosen on the Load page"
    _press(page, page.get_by_role("button", name="Use this model"),
           page.get_by_text("Ready to audit", exact=False).first, flow)
    flow._idle(page, 60_000)
    flow._open(page, *flow.PAGES[1])
    page.get_by_text("Profile: Quick look", exact=False).first.wait_for(timeout=10_000)
    page.get_by_text("already computed for these exact files", exact=False).first.wait_for(
        timeout=10_000)
    _press(page, page.get_by_role("button", name="Run the audit"),
           page.get_by_text("Already computed: loaded from the stored reports", exact=False).first,
           flow)
    page.get_by_text("Recommended decision", exact=False).first.wait_for(timeout=60_000)
    flow._idle(page, 60_000)
    flow._open(page, *flow.PAGES[6])
    page.get_by_text(f"Run {run}", exact=True).first.wait_for(timeout=30_000)


def _sign_in_local(page, name: str, flow) -> None:
    """A first sign-in with the administrator's temporary password, then one's own."""
    page.get_by_role("textbox", name="Your account on the board", exact=True).fill(name)
    page.get_by_role("textbox", name="Password", exact=True).fill(TEMPORARY)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.get_by_text("your password was set by an administrator", exact=False).first.wait_for(
        timeout=60_000)
    flow._idle(page, 60_000)
    page.get_by_label("Your new password (12 characters at least)").fill(own_password(name))
    page.get_by_label("The new password again").fill(own_password(name))
    page.get_by_role("button", name="Set my password").click()
    page.get_by_text(f"Signed in as {name}", exact=False).first.wait_for(timeout=60_000)
    flow._idle(page, 60_000)


def _sign_in_sso(page, flow, tries: int = 3) -> int:
    """Single sign-on from the Review page: the provider's form, back to the app's first page,
    and the Review page recognises the member; returns the number of attempts it took.

    The app's server fetches the provider's metadata and the token itself (Streamlit's OAuth
    client, with a 5 s connect timeout); on a machine loaded by other work that can time out, and
    the app then comes back signed out and offers the button again, as it should: the member
    signs in again, as a person would. Each attempt is counted (``Meeting.sso_attempts``)."""
    signed = page.get_by_text(f"Signed in as {SSO_REVIEWER}", exact=False).first
    offered = page.get_by_role("button", name="Sign in with single sign-on")
    for attempt in range(1, tries + 1):
        flow._open(page, *flow.PAGES[6])
        offered.click()
        page.get_by_placeholder("sub").wait_for(timeout=60_000)
        page.get_by_placeholder("sub").fill(SSO_SUBJECT)
        page.get_by_role("button", name="Authorize").click()
        page.get_by_role("heading", level=1, name=flow.PAGES[0][1], exact=True).wait_for(
            timeout=60_000)
        flow._idle(page, 60_000)
        flow._open(page, *flow.PAGES[6])
        signed.or_(offered).first.wait_for(timeout=60_000)
        flow._idle(page, 60_000)
        if signed.is_visible():
            return attempt
    raise AssertionError(f"single sign-on did not sign {SSO_REVIEWER} in after {tries} "
                         "attempts (see streamlit.log)")


def _finding(page, fid: str):
    """The expander of one finding (by the id in its caption)."""
    return page.get_by_test_id("stExpander").filter(
        has=page.get_by_text(f"Finding id {fid} ·", exact=False))


def _votes_tab(page, flow) -> None:
    flow._until(page, lambda: flow._click_all(page.get_by_role("tab", name="Votes and decision")),
                page.get_by_role("heading", name="Where the board stands").first)
