"""Procedures end to end: the shipped YAML files, run against the sample actions service."""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI, Header
from fastapi.responses import PlainTextResponse

from agent.procedures.actions import ActionClient, ActionRequest
from agent.procedures.connections import Connection
from agent.procedures.language import parse_condition
from agent.procedures.runner import (
    UNABLE_SAY,
    ProcedureError,
    ProcedureRunner,
    ProcedureSet,
    ProcedureState,
    StepOutcome,
)
from examples.actions_service import Store, create_actions_app
from service.serving import ThreadedServer
from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]
PROCEDURES = ROOT / "examples" / "procedures"
KNOWLEDGE = ROOT / "examples" / "knowledge"
TOKEN = "tok-" + secrets.token_hex(12)
# For loading only (nothing is called through it); the runner fixtures use `connections`.
CONNECTIONS = {"northwind": Connection("northwind", "http://127.0.0.1:9")}


def northwind(url: str, token: str | None = TOKEN) -> dict[str, Connection]:
    """The shipped procedures' connection to the sample actions service at `url`."""
    secrets_ = {"Authorization": f"Bearer {token}"} if token else {}
    return {"northwind": Connection("northwind", url, secrets=secrets_)}


class ActionsServer:
    """The sample actions service plus test-only routes, served by uvicorn in a thread."""

    def __init__(self) -> None:
        self.app = create_actions_app(TOKEN)
        add_test_routes(self.app)
        port = free_port()
        self._served = ThreadedServer(
            self.app, "127.0.0.1", port, "actions service", timeout_graceful_shutdown=1
        )
        self.url = self._served.url

    @property
    def store(self) -> Store:
        store: Store = self.app.state.store
        return store

    def __enter__(self) -> ActionsServer:
        self._served.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._served.stop(timeout_s=10)


def add_test_routes(app: FastAPI) -> None:
    @app.post("/test/slow")
    async def slow() -> dict[str, bool]:
        await asyncio.sleep(1.5)
        return {"late": True}

    @app.post("/test/echo")
    def echo(authorization: str | None = Header(default=None)) -> dict[str, Any]:
        return {"authorization": authorization, "nested": [{"again": authorization}]}

    @app.post("/test/text")
    def text() -> PlainTextResponse:
        return PlainTextResponse("<html>not json</html>")


@pytest.fixture(scope="module")
def service() -> Iterator[ActionsServer]:
    with ActionsServer() as server:
        yield server


@pytest.fixture
def store(service: ActionsServer) -> Store:
    service.store.reset()
    return service.store


@pytest.fixture(scope="module")
def shipped(service: ActionsServer) -> ProcedureSet:
    return ProcedureSet.load_dir(PROCEDURES, northwind(service.url))


@pytest.fixture
def runner(service: ActionsServer, shipped: ProcedureSet) -> Iterator[ProcedureRunner]:
    with ActionClient(northwind(service.url)) as client:
        yield ProcedureRunner(shipped, client)


def rules(outcome: StepOutcome) -> list[str]:
    return [event["rule"] for event in outcome.events]


def dump(outcomes: list[StepOutcome]) -> str:
    return json.dumps(
        [[o.text, o.citations, o.decision, o.events, o.state.to_json()] for o in outcomes]
    )


# -- the shipped files -----------------------------------------------------------------


def test_every_shipped_procedure_loads_with_examples_and_real_citations(
    shipped: ProcedureSet,
) -> None:
    files = sorted(PROCEDURES.glob("*.yaml"))
    assert 4 <= len(files) == len(shipped) <= 6
    documents = {path.name for path in KNOWLEDGE.iterdir()}
    for procedure in shipped:
        assert set(procedure.citations) <= documents, procedure.source
        assert procedure.citations
        lines = (PROCEDURES / procedure.source).read_text(encoding="utf-8").splitlines()
        header = " ".join(line for line in lines[:6] if line.startswith("#"))
        assert lines[0].startswith("#") and "ABCD" in header and "MIT" in header
        for intent in procedure.intents:
            assert shipped.for_intent(intent) is procedure
    examples = shipped.intent_examples()
    assert set(examples) == {i for p in shipped for i in p.intents}
    assert all(8 <= len(texts) <= 15 for texts in examples.values())
    assert shipped.for_intent("no_such_intent") is None


# -- full conversations ---------------------------------------------------------------


def test_reset_password_validates_calls_branches_and_replies(
    runner: ProcedureRunner, store: Store
) -> None:
    first = runner.start("reset-password", "I forgot my password")
    assert first.decision == "ask" and "email" in first.text.lower()
    bad = runner.resume(first.state, "it's cminh730 at email dot com")
    assert bad.decision == "ask" and "doesn't look like an email" in bad.text
    assert bad.state.attempts == {"ask_email": 1}
    pin = runner.resume(bad.state, "Sure: cminh730@email.com")
    assert pin.decision == "ask" and "Crystal" in pin.text and "PIN" in pin.text
    assert "branch account_found: account.found == true -> ask_pin" in rules(pin)
    assert store.reset_links == []
    done = runner.resume(pin.state, "my pin is 4410")
    assert done.decision == "reply" and done.state.status == "done"
    assert "cminh730@email.com" in done.text and "30 minutes" in done.text
    assert done.citations == ["account-access.docx"]
    assert "branch identity_ok: identity.verified == true -> send_link" in rules(done)
    assert store.reset_links == ["NW-1001"]
    kinds = [(e["step"], e["kind"], e["status"]) for e in done.events]
    assert kinds[0] == ("ask_pin", "ask", "ok")
    assert ("send_link", "action", "ok") in kinds
    assert all(e["elapsed_ms"] >= 0 for e in done.events)


def test_wrong_pin_and_unknown_account_hand_off(runner: ProcedureRunner, store: Store) -> None:
    pin = runner.start("reset-password", "forgot my password, I'm cminh730@email.com")
    assert "PIN" in pin.text  # the email was read from the first message
    wrong = runner.resume(pin.state, "1234")
    assert wrong.decision == "handoff" and wrong.state.status == "handoff"
    assert "NW-1001" in (wrong.state.handoff_reason or "")
    assert store.reset_links == []
    unknown = runner.start("reset-password", "password reset for nobody@example.org please")
    assert unknown.decision == "handoff"
    assert unknown.state.handoff_reason == "No account matches the email address nobody@example.org"
    assert "nobody@example.org" not in json.dumps(unknown.events)


def test_first_message_fills_slots_and_skips_their_questions(runner: ProcedureRunner) -> None:
    outcome = runner.start("order-status", "Where is order 7916676427? I'm APhoenix939@email.com")
    assert outcome.decision == "reply"
    assert "in transit" in outcome.text and "2024-06-04" in outcome.text
    assert outcome.citations == ["shipping-issue.html", "order-issue.pdf"]
    skipped = [e["step"] for e in outcome.events if e["status"] == "skipped"]
    assert skipped == ["ask_order", "ask_email"]
    answer = runner.start("order-status", "where's my stuff")
    both = runner.resume(answer.state, "3348917502 and cminh730@email.com")
    assert both.decision == "reply" and "delivered on 2024-04-30" in both.text


def test_ask_gives_up_after_max_attempts(runner: ProcedureRunner) -> None:
    outcome = runner.start("order-status", "where is my order")
    for attempt in (1, 2):
        outcome = runner.resume(outcome.state, "I don't have it to hand")
        assert outcome.decision == "ask" and outcome.state.attempts["ask_order"] == attempt
        assert "order number" in outcome.text
    outcome = runner.resume(outcome.state, "still no idea")
    assert outcome.decision == "handoff"
    assert outcome.state.handoff_reason == "could not get a valid order_id after 3 attempts"


def test_an_end_user_who_cannot_give_the_value_is_told_how_to_get_help(
    runner: ProcedureRunner,
) -> None:
    """Found in the demo (session 37): "I don't remember the email" got "That doesn't look like
    an email address (for example name@example.com)." A message that says the end user cannot
    give the value gets a line saying how to reach a person instead of the format hint; it
    still counts as an attempt."""
    outcome = runner.start("order-status", "where is my order")
    outcome = runner.resume(outcome.state, "3348917502")
    wrong = runner.resume(outcome.state, "it's cminh730 at email")
    assert wrong.text.startswith("That doesn't look like an email address"), wrong.text
    unable = runner.resume(wrong.state, "I don't remember the email")
    assert unable.decision == "ask" and unable.state.attempts["ask_email"] == 2
    assert unable.text == f"{UNABLE_SAY} And the email address you used for that order?"
    assert any("cannot give it ('don't remember')" in e["rule"] for e in unable.events)


def test_a_bare_no_to_a_value_question_is_taken_as_cannot_give_it(
    runner: ProcedureRunner, store: Store
) -> None:
    """Found in session 47: "no" to "What is your order number?" got "I couldn't find an order
    number in that", as if it were a mistyped number. A bare no (also "nope", "no, not really")
    gets the line on how to reach a person; it still counts as an attempt."""
    outcome = runner.start("order-status", "where is my order")
    for attempt, no in enumerate(["no", "Nope.", "no, not really"], start=1):
        outcome = runner.resume(outcome.state, no)
        if attempt < 3:  # the third attempt hands off
            assert outcome.decision == "ask" and outcome.state.attempts["ask_order"] == attempt
            assert outcome.text.startswith(UNABLE_SAY), outcome.text
            assert any("cannot give it ('no')" in e["rule"] for e in outcome.events)
    assert outcome.decision == "handoff"
    typo = runner.start("order-status", "where is my order")
    assert not runner.resume(typo.state, "no 33489").text.startswith(UNABLE_SAY)
    asked = runner.start("return-refund", "I want to return the jeans from order 3348917502")
    method = runner.resume(asked.state, "cminh730@email.com")
    assert "credit card" in method.text
    refused = runner.resume(method.state, "no")  # to a choice: its options again
    assert refused.decision == "ask" and not refused.text.startswith(UNABLE_SAY), refused.text
    assert "credit card" in refused.text


def test_a_procedure_started_after_another_takes_its_values_for_the_same_slots(
    runner: ProcedureRunner, store: Store
) -> None:
    """Session 47: "Can I return it?" after the order lookup starts the return with the order
    number and email the lookup was given; a value in the message itself comes first."""
    looked_up = runner.start("order-status", "status of order 3348917502")
    looked_up = runner.resume(looked_up.state, "cminh730@email.com")
    assert looked_up.state.status == "done"
    returning = runner.start("return-refund", "Can I return it?", after=looked_up.state)
    assert returning.decision == "ask" and "refunded" in returning.text, returning.text
    assert "filled order_id, email from procedure 'order-status'" in returning.events[0]["rule"]
    other = runner.start("return-refund", "return order 1234567890", after=looked_up.state)
    assert other.state.slots["order_id"] == "1234567890"  # named in the message
    assert "order number" in runner.start("return-refund", "Can I return it?").text  # alone
    procedures = runner.procedures
    assert procedures.get("return-refund").same_case(procedures.get("order-status"))
    assert not procedures.get("reset-password").same_case(procedures.get("order-status"))
    assert not procedures.get("subscription-status").same_case(procedures.get("order-status"))


def test_refund_waits_for_approval_and_runs_only_after_it(
    runner: ProcedureRunner, store: Store
) -> None:
    asked = runner.start("return-refund", "I want to return the jeans from order 3348917502")
    method = runner.resume(asked.state, "cminh730@email.com")
    assert method.decision == "ask" and "$94" in method.text
    unclear = runner.resume(method.state, "whatever you think")
    assert unclear.decision == "ask" and "credit card" in unclear.text
    waiting = runner.resume(unclear.state, "back to my credit card please")
    assert waiting.decision == "needs_approval" and waiting.state.status == "waiting_approval"
    assert waiting.state.pending is not None
    assert waiting.state.pending.describe == (
        "refund $94 for order 3348917502 (Michael Kors jeans) as credit card"
    )
    assert store.refunds == []  # nothing ran yet
    with pytest.raises(ProcedureError, match="waiting_approval, not waiting_input"):
        runner.resume(waiting.state, "hello?")
    restored = ProcedureState.from_json(waiting.state.to_json())
    done = runner.approve(restored, True, "lead@northwind.example")
    assert done.decision == "reply" and "RF-00001" in done.text and "$94" in done.text
    assert done.citations == ["product-defect.pdf"]
    assert [r["method"] for r in store.refunds] == ["credit card"]
    assert "approval refund: approved by lead@northwind.example -> run issue_refund" in rules(done)
    with pytest.raises(ProcedureError, match="done"):
        runner.approve(done.state, True, "lead@northwind.example")
    again = runner.start("return-refund", "refund order 3348917502, cminh730@email.com")
    assert again.decision == "reply" and "already been refunded" in again.text


def test_rejected_refund_hands_off_and_never_runs(runner: ProcedureRunner, store: Store) -> None:
    waiting = runner.start("return-refund", "refund 3348917502 please, email cminh730@email.com")
    waiting = runner.resume(waiting.state, "a gift card")
    assert waiting.decision == "needs_approval"
    rejected = runner.approve(waiting.state, False, "lead@northwind.example")
    assert rejected.decision == "handoff" and rejected.state.pending is None
    assert "did not approve" in (rejected.state.handoff_reason or "")
    assert store.refunds == []


def test_refund_branches_on_membership_return_window(runner: ProcedureRunner) -> None:
    old = runner.start("return-refund", "return order 6402817735 for jwu455@email.com")
    assert old.decision == "handoff"  # guest member, 75 days > 30-day window
    assert "30-day return window" in (old.state.handoff_reason or "")
    early = runner.start("return-refund", "return 5520194863, jwu455@email.com")
    assert early.decision == "reply" and "order received" in early.text


def test_subscription_choice_and_high_impact_payment(runner: ProcedureRunner, store: Store) -> None:
    due = runner.start("subscription-status", "is my subscription active? aphoenix939@email.com")
    assert due.decision == "ask" and "$99 was due" in due.text and "yes or no" in due.text
    assert due.citations == ["subscription-inquiry.md"]
    unclear = runner.resume(due.state, "hmm")
    assert unclear.decision == "ask" and "one of: yes, no" in unclear.text
    waiting = runner.resume(unclear.state, "yes please")
    assert waiting.decision == "needs_approval" and store.payments == []
    assert waiting.state.pending is not None and waiting.state.pending.body["amount"] == 99.0
    paid = runner.approve(waiting.state, True, "billing@northwind.example")
    assert paid.decision == "reply" and "PM-00001" in paid.text
    assert [p["amount"] for p in store.payments] == [99.0]
    active = runner.start("subscription-status", "cminh730@email.com, is my plan paid?")
    assert active.decision == "reply" and "2024-09-14" in active.text


def test_change_address_before_and_after_dispatch(runner: ProcedureRunner, store: Store) -> None:
    asked = runner.start("change-shipping-address", "change address of 5520194863 jwu455@email.com")
    assert asked.decision == "ask" and "new delivery address" in asked.text
    bad = runner.resume(asked.state, "tomorrow")
    assert bad.decision == "ask" and "street number" in bad.text
    done = runner.resume(bad.state, "12 Oak Street, Springfield, IL 62704")
    assert done.decision == "reply" and "12 Oak Street" in done.text
    order = next(o for o in store.orders if o["order_id"] == "5520194863")
    assert order["address"] == "12 Oak Street, Springfield, IL 62704"
    assert "12 Oak Street" not in json.dumps(done.events)  # personal slot masked in the trace
    late = runner.start("change-shipping-address", "new address for 3348917502 cminh730@email.com")
    assert late.decision == "reply" and "already delivered" in late.text


# -- secrets, allowlist, failures --------------------------------------------------------

ECHO = """
id: echo
title: Echo
intents: [echo]
examples: [echo please]
steps:
  - id: ask_email
    ask: {slot: email, prompt: "Email?", validate: {kind: email}}
  - id: call
    action: {name: echo, connection: northwind, url: "/test/echo", body: {email: "{{email}}"}}
    save_as: echoed
  - id: done
    reply: "Header was {{echoed.authorization}} for {{email}}"
"""


def test_secret_never_appears_in_events_or_outcomes(
    service: ActionsServer, runner: ProcedureRunner, store: Store
) -> None:
    outcomes = [runner.start("return-refund", "refund 3348917502 cminh730@email.com")]
    outcomes.append(runner.resume(outcomes[-1].state, "store credit"))
    outcomes.append(runner.approve(outcomes[-1].state, True, "lead"))
    procedures = ProcedureSet.from_texts({"echo.yaml": ECHO}, northwind(service.url))
    with ActionClient(northwind(service.url)) as client:
        echo = ProcedureRunner(procedures, client)
        outcomes.append(echo.start("echo", "me@example.com"))
    assert outcomes[-1].text == "Header was <secret> for me@example.com"
    assert store.refunds and outcomes[2].decision == "reply"
    everything = dump(outcomes)
    assert TOKEN not in everything
    assert '"connection": "northwind"' in everything  # the connection named, secrets never
    assert "cminh730@email.com" not in json.dumps([o.events for o in outcomes])
    assert "me@example.com" not in json.dumps(outcomes[-1].events)


def procedure_text(url: str, extra_step: str = "", timeout: str = "") -> str:
    return f"""
id: probe
title: Probe
intents: [probe]
examples: [probe it]
steps:
  - id: call
    action: {{name: probe, connection: northwind, url: "{url}"{timeout}}}
    save_as: probe{extra_step}
  - id: done
    reply: "ok"
"""


def test_an_origin_outside_the_connection_is_refused(service: ActionsServer) -> None:
    connections = northwind(service.url)
    with pytest.raises(ProcedureError, match=r"'evil\.yaml'.*203\.0\.113\.5.*not among"):
        ProcedureSet.from_texts({"evil.yaml": procedure_text("http://203.0.113.5/x")}, connections)
    host, port = service.url.rsplit(":", 1)
    other_port = f"{host}:{int(port) + 1}/v1/drafts"  # same host, another port
    with pytest.raises(ProcedureError, match=rf"127\.0\.0\.1:{int(port) + 1}', which is not"):
        ProcedureSet.from_texts({"port.yaml": procedure_text(other_port)}, connections)
    fine = ProcedureSet.from_texts({"probe.yaml": procedure_text("/x")}, connections)
    with ActionClient({}) as empty, pytest.raises(ProcedureError, match="'northwind'"):
        ProcedureRunner(fine, empty)
    with ActionClient(connections) as client:
        for url in (other_port, "http://198.51.100.7/steal", service.url + "@198.51.100.7/x"):
            refused = client.call(ActionRequest("x", "POST", url, "northwind"))
            assert not refused.ok and "is not among the origins of connection 'northwind'" in (
                refused.error or ""
            ), url
        unknown = client.call(ActionRequest("x", "POST", service.url + "/x", "erp"))
        assert unknown.error == "connection 'erp' is not set up (set up: northwind)"


def test_timeout_non_2xx_and_non_json_become_failed_results(service: ActionsServer) -> None:
    slow = procedure_text("/test/slow", timeout=", timeout_s: 0.3")
    branching = slow.replace(
        "  - id: done",
        "  - id: check\n    branch: [{when: 'probe.ok == false', goto: sorry}, "
        "{otherwise: true, goto: done}]\n  - id: sorry\n    reply: 'The system is slow.'\n"
        "  - id: done",
    )
    texts = {
        "slow.yaml": slow,
        "text.yaml": procedure_text("/test/text").replace("probe", "text"),
    }
    connections = northwind(service.url)
    procedures = ProcedureSet.from_texts(texts, connections)
    with ActionClient(connections) as client:
        runner = ProcedureRunner(procedures, client)
        started = time.perf_counter()
        timed_out = runner.start("probe", "go")
        assert time.perf_counter() - started < 1.2
        assert timed_out.decision == "handoff"
        assert (
            timed_out.state.handoff_reason
            == "the probe action failed: no answer within 0.3 s (timeout)"
        )
        not_json = runner.start("text", "go")
        assert not_json.decision == "handoff"
        assert "did not answer with JSON" in (not_json.state.handoff_reason or "")
        branched = ProcedureRunner(
            ProcedureSet.from_texts({"b.yaml": branching}, connections), client
        ).start("probe", "go")
        assert branched.decision == "reply" and branched.text == "The system is slow."
        assert branched.state.results["probe"]["ok"] is False
    for token in ("wrong-token", None):  # a wrong secret, and none at all
        wrong = northwind(service.url, token)
        with ActionClient(wrong) as client:
            runner = ProcedureRunner(ProcedureSet.load_dir(PROCEDURES, wrong), client)
            refused = runner.start("order-status", "order 3348917502 cminh730@email.com")
        assert refused.decision == "handoff"
        assert (
            refused.state.handoff_reason
            == "the lookup_order action failed: the system answered HTTP 401"
        )


# -- bad files -------------------------------------------------------------------------

GOOD_HEAD = "id: bad\ntitle: Bad\nintents: [bad]\nexamples: [bad]\nsteps:\n"
ASK = "  - id: a\n    ask: {slot: email, prompt: 'Email?', validate: {kind: email}}\n"
BAD_FILES = {
    "syntax": ("id: bad\nsteps: [\n  - id: a\n", "invalid YAML at line"),
    "unknown-kind": (
        GOOD_HEAD + "  - id: a\n    email_customer: hi\n",
        "unknown kind 'email_customer'",
    ),
    "unknown-field": (
        GOOD_HEAD + "  - id: a\n    reply: hi\n    colour: red\n",
        "unknown field 'colour'",
    ),
    "two-kinds": (
        GOOD_HEAD + "  - id: a\n    reply: hi\n    handoff: x\n",
        "has reply and handoff",
    ),
    "missing-goto": (
        GOOD_HEAD + ASK + "  - id: b\n    branch: [{otherwise: true, goto: nowhere}]\n",
        "step 'b' goes to 'nowhere', which is not a step",
    ),
    "host": (
        GOOD_HEAD + "  - id: a\n    action: {name: x, connection: northwind, "
        "url: 'https://example.com/x'}\n  - id: b\n    reply: hi\n",
        "calls 'https://example.com:443', which is not among the origins connection "
        "'northwind' allows (http://127.0.0.1:9)",
    ),
    "host-from-slot": (
        GOOD_HEAD + ASK + "  - id: b\n    action: {name: x, connection: northwind, "
        "url: 'http://{{email}}/x'}\n  - id: c\n    reply: hi\n",
        "chooses its host with a template",
    ),
    "no-connection": (
        GOOD_HEAD + "  - id: a\n    action: {name: x, url: '/x'}\n  - id: b\n    reply: hi\n",
        "an action needs 'connection: NAME'",
    ),
    "named-secret": (
        GOOD_HEAD + "  - id: a\n    action: {name: x, connection: northwind, url: '/x', "
        "secret: actions_token}\n  - id: b\n    reply: hi\n",
        "'secret' is no longer an action field",
    ),
    "unknown-connection": (
        GOOD_HEAD + "  - id: a\n    action: {name: x, connection: erp, url: '/x'}\n"
        "  - id: b\n    reply: hi\n",
        "uses connection 'erp', which this tenant has not set up (set up: northwind)",
    ),
    "missing-slot": (GOOD_HEAD + ASK + "  - id: b\n    reply: 'Hi {{name}}'\n", "uses '{{name}}'"),
    "missing-in-condition": (
        GOOD_HEAD + ASK + "  - id: b\n    branch: [{when: 'account.found == true', goto: a}, "
        "{otherwise: true, goto: a}]\n",
        "uses 'account'",
    ),
    "eval-attempt": (
        GOOD_HEAD + ASK + "  - id: b\n    branch: [{when: \"__import__('os').system('x')\", "
        "goto: a}, {otherwise: true, goto: a}]\n",
        "expected a slot or result path",
    ),
    "no-end": (GOOD_HEAD + ASK, "step 'a' is the last step but does not end"),
    "missing-prompt": (
        GOOD_HEAD + "  - id: a\n    ask: {slot: email}\n  - id: b\n    reply: hi\n",
        "steps[0] (id 'a').ask.prompt: Field required",
    ),
    "duplicate-step": (
        GOOD_HEAD + "  - id: a\n    reply: hi\n  - id: a\n    reply: ho\n",
        "used twice",
    ),
    "bad-regex": (
        GOOD_HEAD
        + "  - id: a\n    ask: {slot: z, prompt: 'Z?', validate: {kind: regex, pattern: '('}}\n"
        "  - id: b\n    reply: hi\n",
        "is not a regex",
    ),
    "not-a-mapping": ("- just\n- a list\n", "expected a mapping"),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_procedure_files_name_the_file_and_the_problem(case: str, tmp_path: Path) -> None:
    text, problem = BAD_FILES[case]
    (tmp_path / f"{case}.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(ProcedureError) as raised:
        ProcedureSet.load_dir(tmp_path, CONNECTIONS)
    assert f"procedure file '{case}.yaml'" in str(raised.value)
    assert problem in str(raised.value)


def test_duplicate_intents_across_files_are_refused() -> None:
    one = GOOD_HEAD.replace("id: bad", "id: one") + "  - id: a\n    reply: hi\n"
    two = one.replace("id: one", "id: two")
    with pytest.raises(ProcedureError, match=r"'two\.yaml': intent 'bad' already triggers 'one'"):
        ProcedureSet.from_texts({"one.yaml": one, "two.yaml": two}, CONNECTIONS)


def test_condition_language() -> None:
    scope: dict[str, Any] = {
        "order": {"found": True, "status": "In Transit", "amount": 94.0, "note": None},
        "pay_now": "yes",
        "count": "3",
    }
    holds = {
        "order.found == true": True,
        "order.found != true": False,
        "order.status == 'in transit'": True,
        "order.status in [delivered, 'in transit']": True,
        "order.amount > 90 and order.amount <= 94": True,
        "order.amount < 50": False,
        "count >= 3": True,
        "exists order.status": True,
        "exists order.note": False,
        "not exists order.refund": True,
        "order.refund == true": False,
        "order.status > 3": False,
        "pay_now == yes and order.found == false": False,
    }
    for text, expected in holds.items():
        assert parse_condition(text).holds(scope) is expected, text
    for broken in ("order.found ~ 3", "exists", "order.status in delivered", "a == 1 or b == 2"):
        with pytest.raises(ValueError):
            parse_condition(broken)


def test_a_goto_loop_hands_off_instead_of_spinning() -> None:
    loop = GOOD_HEAD + "  - id: a\n    branch: [{otherwise: true, goto: a}]\n"
    procedures = ProcedureSet.from_texts({"loop.yaml": loop}, CONNECTIONS)
    with ActionClient(CONNECTIONS) as client:
        outcome = ProcedureRunner(procedures, client, max_steps_per_turn=20).start("bad", "hi")
    assert outcome.decision == "handoff" and len(outcome.events) == 22  # start + 20 + handoff
    assert outcome.state.handoff_reason == "ran more than 20 steps in one turn (a loop?)"


def test_trace_events_show_what_ran_without_personal_data(runner: ProcedureRunner) -> None:
    outcome = runner.start("order-status", "order 3348917502, cminh730@email.com")
    lookup = next(e for e in outcome.events if e["kind"] == "action")
    assert lookup["inputs"]["action"] == "lookup_order"
    assert lookup["inputs"]["connection"] == "northwind"
    assert lookup["inputs"]["body"] == {"order_id": "<order_id>", "email": "<masked>"}
    assert lookup["outputs"]["status"] == "delivered" and lookup["outputs"]["http_status"] == 200
    branch = next(e for e in outcome.events if e["kind"] == "branch")
    assert branch["outputs"]["values"]["order.status"] == "delivered"
    assert branch["rule"] == "branch which_status: order.status == delivered -> delivered"
