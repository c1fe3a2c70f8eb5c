"""Bad admin input over HTTP gets a clear refusal naming the field and changes nothing:
training opt-outs address exactly the end-user ids conversations accept (slashes and
non-ASCII included), a 405 says which methods the path allows, booleans are JSON booleans,
`autonomous_intents` name intents that exist, the clarify threshold is not above the answer
threshold in effect, and the disclosure and privacy notices are visible text without
invisible format characters."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

import httpx
import pytest

from agent.answer.judge import FEATURES_THRESHOLD
from agent.config import DEFAULT_DISCLOSURE, DEFAULT_PRIVACY_NOTICE
from conversations.connections import ConnectionSpec
from tests.service.helpers import acme_server, auth
from tests.service.test_trust_access_versions import PROCEDURE

BAD_ID = (
    "end_user_id must be 1-200 printable characters (the id of the end user in the "
    "company's own login)"
)
INTENTS = {
    "returns": ["how do I return shoes", "can I send back my order"],
    "shipping": ["how long does delivery take", "when will my parcel arrive"],
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Any:
    with acme_server(tmp_path_factory, "bad-admin", ("admin", "end_user")) as live:
        tenants = live.runtime.tenants
        live.keys["backend"] = tenants.create_key("acme", "end_user", asserts_identity=True)
        yield live


def call(server: Any, role: str, method: str, path: str, headers: Any = None,
         **kwargs: Any) -> httpx.Response:  # fmt: skip
    headers = {**auth(server.keys[role]), **(headers or {})}
    return httpx.request(method, server.url + path, headers=headers, timeout=60, **kwargs)


def refused(response: httpx.Response, status: int, message: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["error"]["message"] == message


def opted_out(server: Any) -> set[str]:
    from control.training import TrainingPolicy

    found: set[str] = TrainingPolicy(server.runtime.sessions).opted_out("acme")
    return found


def start(server: Any, end_user_id: str) -> httpx.Response:
    return call(server, "backend", "POST", "/v1/conversations", json={"end_user_id": end_user_id})


# -- training opt-outs -------------------------------------------------------------------


def test_an_end_user_id_with_slashes_can_be_opted_out_and_back_in(server: Any) -> None:
    from control.training import TrainingPolicy

    allowed = call(server, "admin", "PUT", "/v1/customer-control", json={"training_use": "allowed"})
    assert allowed.status_code == 200, allowed.text
    assert call(server, "admin", "PUT", "/v1/training/opt-outs/u-before").status_code == 200
    started = start(server, "shop/customers/42")
    assert started.status_code == 201, started.text
    conversation = started.json()["conversation_id"]

    for path in ("shop/customers/42", "shop%2Fcustomers%2F42"):
        opted = call(server, "admin", "PUT", f"/v1/training/opt-outs/{path}")
        assert opted.status_code == 200, opted.text
        assert opted.json() == {"opted_out": True, "golden_cases_removed": 0}
        assert opted_out(server) >= {"u-before", "shop/customers/42"}
        decision = TrainingPolicy(server.runtime.sessions).decide("acme", conversation)
        assert decision.reason == "end user opted out"
        withdrawn = call(server, "admin", "DELETE", f"/v1/training/opt-outs/{path}")
        assert withdrawn.status_code == 204, withdrawn.text
        assert "shop/customers/42" not in opted_out(server)
        assert "u-before" in opted_out(server)


def test_end_user_ids_that_conversations_refuse_are_refused_for_opt_outs(server: Any) -> None:
    assert call(server, "admin", "PUT", "/v1/training/opt-outs/u-kept").status_code == 200
    before = opted_out(server)
    for value in ("a\x00b", "   ", "x" * 201):
        refused(start(server, value), 422, f"body.end_user_id: Value error, {BAD_ID}")
    for path in ("a%00b", "%20%20%20", "", "x" * 201, "tab%09in"):
        for method in ("PUT", "DELETE"):
            response = call(server, "admin", method, f"/v1/training/opt-outs/{path}")
            refused(response, 422, f"path.end_user_id: {BAD_ID}")
    assert opted_out(server) == before


def test_a_non_ascii_end_user_id_header_is_read_as_utf8(server: Any) -> None:
    """The company's backend names the end user in X-End-User-Id; an id with accents is
    matched when the header carries its UTF-8 bytes (as JSON bodies and URLs do), and still
    when a client sends Latin-1."""
    started = start(server, "zoë-ünal")
    assert started.status_code == 201, started.text
    conversation = started.json()["conversation_id"]
    path = f"/v1/conversations/{conversation}/training-opt-out"
    for encoding in ("utf-8", "latin-1"):
        header = {"X-End-User-Id": "zoë-ünal".encode(encoding)}
        read = call(server, "backend", "GET", f"/v1/conversations/{conversation}", header)
        assert read.status_code == 200, (encoding, read.text)
        opted = call(server, "backend", "POST", path, header)
        assert opted.status_code == 200, (encoding, opted.text)
        assert "zoë-ünal" in opted_out(server)
        undo = call(server, "admin", "DELETE", "/v1/training/opt-outs/zo%C3%AB-%C3%BCnal")
        assert undo.status_code == 204, undo.text
    stranger = call(server, "backend", "POST", path, {"X-End-User-Id": "zoe-unal"})
    refused(stranger, 404, f"conversation '{conversation}' does not exist")


# -- 405 ---------------------------------------------------------------------------------


def test_a_method_the_path_does_not_have_is_answered_with_allow(server: Any) -> None:
    cases = {
        ("OPTIONS", "/v1/health"): "GET, HEAD",  # HEAD: service/head.py
        ("HEAD", "/v1/drafts"): "GET",
        ("OPTIONS", "/v1/training/opt-outs/u-1"): "DELETE, PUT",
        ("POST", "/v1/agent/config"): "GET, HEAD, PATCH",
        ("DELETE", "/v1/features/sentiment"): "PUT",
    }
    for (method, path), allow in cases.items():
        response = call(server, "admin", method, path)
        assert response.status_code == 405, (method, path, response.text)
        assert response.headers.get("Allow") == allow, (method, path)
        if method != "HEAD":
            assert response.json()["error"]["code"] == "method_not_allowed"


# -- strict booleans ---------------------------------------------------------------------


def test_booleans_must_be_json_booleans(server: Any) -> None:
    features = call(server, "admin", "GET", "/v1/features").json()
    config = call(server, "admin", "GET", "/v1/agent/config")
    privacy = call(server, "admin", "GET", "/v1/privacy/settings").json()
    for loose in ("yes", "true", 1, 0, "off", None):
        switched = call(server, "admin", "PUT", "/v1/features/sentiment",
                        json={"enabled": loose})  # fmt: skip
        refused(switched, 422, "body.enabled: Input should be a valid boolean")
        # a null in a config PATCH puts the feature back to its default, and a null
        # redact_ingestion leaves the setting as it is
        if loose is not None:
            patched = call(server, "admin", "PATCH", "/v1/agent/config",
                           headers={"If-Match": config.headers["ETag"]},
                           json={"features": {"sentiment": loose}})  # fmt: skip
            refused(patched, 400, "invalid agent configuration at 'features.sentiment': "
                                  "Input should be a valid boolean")  # fmt: skip
            settings = call(server, "admin", "PUT", "/v1/privacy/settings",
                            json={"redact_ingestion": loose})  # fmt: skip
            refused(settings, 422, "body.redact_ingestion: Input should be a valid boolean")
        run = call(server, "admin", "POST", "/v1/privacy/retention/runs", json={"dry_run": loose})
        refused(run, 422, "body.dry_run: Input should be a valid boolean")
    assert call(server, "admin", "GET", "/v1/features").json() == features
    after = call(server, "admin", "GET", "/v1/agent/config")
    assert after.json() == config.json() and after.headers["ETag"] == config.headers["ETag"]
    assert call(server, "admin", "GET", "/v1/privacy/settings").json() == privacy
    off = call(server, "admin", "PUT", "/v1/features/sentiment", json={"enabled": False})
    assert off.status_code == 200
    assert not next(f for f in off.json() if f["name"] == "sentiment")["enabled"]
    assert call(server, "admin", "PUT", "/v1/features/sentiment",
                json={"enabled": True}).status_code == 200  # fmt: skip


# -- autonomous intents ------------------------------------------------------------------


def _patch(server: Any, tenant_admin: str, body: dict[str, Any]) -> httpx.Response:
    tag = httpx.get(f"{server.url}/v1/agent/config", headers=auth(tenant_admin)).headers["ETag"]
    return httpx.patch(f"{server.url}/v1/agent/config", json=body, timeout=60,
                       headers={**auth(tenant_admin), "If-Match": tag})  # fmt: skip


def _put_procedure(server: Any, tenant_admin: str, source: str) -> httpx.Response:
    """PUT /v1/procedures for a procedure that is new (version 0)."""
    return httpx.put(f"{server.url}/v1/procedures", json={"source": source, "version": 0},
                     headers=auth(tenant_admin), timeout=60)  # fmt: skip


def _procedure_ids(server: Any, tenant_admin: str) -> list[str]:
    listed = httpx.get(f"{server.url}/v1/procedures", headers=auth(tenant_admin)).json()
    return [p["id"] for p in listed]


def _procedure(procedure_id: str, intent: str) -> str:
    """PROCEDURE under another id and intent."""
    return PROCEDURE.replace("id: opening-hours", f"id: {procedure_id}").replace(
        "intents: [opening_hours]", f"intents: [{intent}]"
    )


def test_autonomous_intents_must_exist(server: Any) -> None:
    tenants = server.runtime.tenants
    tenants.create("initech", "eu")
    admin = tenants.create_key("initech", "admin")
    assert _patch(server, admin, {"intents": INTENTS}).status_code == 200
    put = _put_procedure(server, admin, PROCEDURE)
    assert put.status_code == 200, put.text
    before = httpx.get(f"{server.url}/v1/agent/config", headers=auth(admin)).json()
    known = "known: opening_hours, returns, shipping"
    for names, unknown in ((["returns", "telepathy"], "telepathy"),
                           (["Returns", "x", "returns"], "Returns, x")):  # fmt: skip
        response = _patch(server, admin, {"autonomy": "per_intent", "autonomous_intents": names})
        refused(response, 400, "invalid agent configuration at 'autonomous_intents': unknown "
                f"intent(s) {unknown}; {known} (the configuration's intents and the "
                "procedures' intents)")  # fmt: skip
    assert httpx.get(f"{server.url}/v1/agent/config", headers=auth(admin)).json() == before
    chosen = ["returns", "opening_hours"]
    accepted = _patch(server, admin, {"autonomy": "per_intent", "autonomous_intents": chosen})
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["autonomous_intents"] == chosen


def test_null_removes_an_intent_and_puts_a_threshold_or_feature_back_to_its_default(
    server: Any,
) -> None:
    """Nested objects are merged, so before, an intent once added could never be removed
    (`{"intents": {}}` changed nothing and `null` was refused as not a list): an admin who
    added a wrong one was stuck with it. `null` now removes a key, as in JSON merge patch."""
    tenants = server.runtime.tenants
    tenants.create("null-patch", "eu")
    admin = tenants.create_key("null-patch", "admin")
    changed = {"intents": INTENTS, "thresholds": {"clarify": 0.2}, "features": {"sentiment": False}}
    assert _patch(server, admin, changed).status_code == 200
    nulls = {"intents": {"shipping": None}, "thresholds": {"clarify": None},
             "features": {"sentiment": None}}  # fmt: skip
    removed = _patch(server, admin, nulls)
    assert removed.status_code == 200, removed.text
    config = httpx.get(f"{server.url}/v1/agent/config", headers=auth(admin)).json()
    assert config["intents"] == {"returns": INTENTS["returns"]}
    assert config["thresholds"]["clarify"] == 0.3
    assert config["features"]["sentiment"] is True


def test_an_intent_that_replies_directly_cannot_be_removed_alone(server: Any) -> None:
    tenants = server.runtime.tenants
    tenants.create("direct-intents", "eu")
    admin = tenants.create_key("direct-intents", "admin")
    chosen = {"intents": INTENTS, "autonomy": "per_intent", "autonomous_intents": ["shipping"]}
    assert _patch(server, admin, chosen).status_code == 200
    before = httpx.get(f"{server.url}/v1/agent/config", headers=auth(admin)).json()
    refused(_patch(server, admin, {"intents": {"shipping": None}}), 400,
            "invalid agent configuration at 'intents': shipping is listed in "
            "autonomous_intents; take it out of autonomous_intents in the same change")  # fmt: skip
    assert httpx.get(f"{server.url}/v1/agent/config", headers=auth(admin)).json() == before
    both = _patch(server, admin, {"intents": {"shipping": None}, "autonomous_intents": []})
    assert both.status_code == 200, both.text
    assert set(both.json()["intents"]) == {"returns"}


def test_a_configuration_with_an_unknown_autonomous_intent_stored_earlier_still_works(
    server: Any,
) -> None:
    """Stored before the rule, an unknown name loads as stored (it never matches); the
    admin's next change goes through, keeping it or dropping it."""
    tenants = server.runtime.tenants
    tenants.create("umbrella", "eu")
    admin = tenants.create_key("umbrella", "admin")
    assert _patch(server, admin, {"intents": INTENTS}).status_code == 200
    _store(server, "umbrella", autonomy="per_intent", autonomous_intents=["returns", "ghost"])
    shown = httpx.get(f"{server.url}/v1/agent/config", headers=auth(admin))
    assert shown.status_code == 200 and shown.json()["autonomous_intents"] == ["returns", "ghost"]
    same = _patch(server, admin, {"autonomous_intents": ["returns", "ghost"],
                                  "thresholds": {"clarify": 0.25}})  # fmt: skip
    assert same.status_code == 200, same.text
    assert same.json()["thresholds"]["clarify"] == 0.25
    dropped = _patch(server, admin, {"autonomous_intents": ["shipping"]})
    assert dropped.status_code == 200 and dropped.json()["autonomous_intents"] == ["shipping"]


def test_a_clarify_threshold_above_the_answer_threshold_in_effect_is_refused(server: Any) -> None:
    """Found in session 48: with `thresholds.answer` unset (the default: the reader's own),
    `thresholds.clarify` 0.95 was accepted, and the agent never asked a clarifying question
    again (the decide step takes the lower of the two); so was switching to the feature
    reader (its own threshold 0.39) with clarify at 0.5. Both are refused, saying the
    threshold in effect, and change nothing; a configuration stored so before the rule
    still takes other changes."""
    tenants = server.runtime.tenants
    tenants.create("clarify-high", "eu")
    admin = tenants.create_key("clarify-high", "admin")
    config = f"{server.url}/v1/agent/config"
    before = httpx.get(config, headers=auth(admin)).json()
    model = server.runtime.answerability.own_threshold("model")
    refused(_patch(server, admin, {"thresholds": {"clarify": 0.95}}), 400,
            "invalid agent configuration at 'thresholds.clarify': 0.95 is above the answer "
            f"threshold in effect, {model} (the answerability model's own, as "
            "thresholds.answer is unset), so the agent would never ask a clarifying question; "
            f"set it to at most {model}, or set thresholds.answer as well")  # fmt: skip
    assert httpx.get(config, headers=auth(admin)).json() == before
    assert _patch(server, admin, {"thresholds": {"clarify": 0.5}}).status_code == 200
    before = httpx.get(config, headers=auth(admin)).json()
    own = FEATURES_THRESHOLD
    refused(_patch(server, admin, {"reader": "features"}), 400,
            "invalid agent configuration at 'thresholds.clarify': 0.5 is above the answer "
            f"threshold in effect, {own} (the feature reader's own, as "
            "thresholds.answer is unset), so the agent would never ask a clarifying question; "
            f"set it to at most {own}, or set thresholds.answer as well")  # fmt: skip
    assert httpx.get(config, headers=auth(admin)).json() == before
    both = _patch(server, admin, {"reader": "features", "thresholds": {"answer": 0.6}})
    assert both.status_code == 200, both.text
    _store(server, "clarify-high", reader="model", thresholds={"clarify": 0.95})
    other = _patch(server, admin, {"autonomy": "copilot"})
    assert other.status_code == 200 and other.json()["thresholds"]["clarify"] == 0.95, other.text


def _store(server: Any, tenant: str, **fields: Any) -> None:
    """Write fields into the tenant's stored configuration as an older version would have."""
    database = server.settings.data_dir / "regions" / "eu" / "clearline.db"
    with sqlite3.connect(database) as db:
        row = db.execute("SELECT config FROM tenant_configs WHERE tenant=?", (tenant,)).fetchone()
        db.execute("UPDATE tenant_configs SET config=? WHERE tenant=?",
                   (json.dumps({**json.loads(row[0]), **fields}), tenant))  # fmt: skip


# -- disclosure and privacy notices ------------------------------------------------------


def test_blank_or_invisible_notices_are_refused(server: Any) -> None:
    current = call(server, "admin", "GET", "/v1/agent/config")
    tag, before = current.headers["ETag"], current.json()
    blank = ("the privacy notice must not be blank: conversations show it to end users; "
             "write what happens to their messages")  # fmt: skip

    def hidden(what: str, char: str) -> str:
        return (
            f"{what} must not hold invisible format characters ({char}): they hide or "
            "reorder what end users read; remove them"
        )

    cases = {
        ("privacy_notice", "   \n\t"): blank,
        ("privacy_notice", ""): blank,
        ("privacy_notice", "\u200b\u200d"): blank,
        ("disclosure", "\ufeff"): "the AI disclosure must not be blank: conversations show "
        "it to tell end users they are talking to an AI; write a sentence saying so",
        ("disclosure", "You are chatting with an AI\u200b"):
            hidden("the AI disclosure", "U+200B ZERO WIDTH SPACE"),
        ("disclosure", "You are chatting with a \u202ehuman\u202c"):
            hidden("the AI disclosure", "U+202E RIGHT-TO-LEFT OVERRIDE"),
        ("disclosure", "\u2066You are chatting with an AI\u2069"):
            hidden("the AI disclosure", "U+2066 LEFT-TO-RIGHT ISOLATE"),
        ("privacy_notice", "We keep\u200f messages."):
            hidden("the privacy notice", "U+200F RIGHT-TO-LEFT MARK"),
        ("privacy_notice", "\ufeffWe keep messages."):
            hidden("the privacy notice", "U+FEFF ZERO WIDTH NO-BREAK SPACE"),
    }  # fmt: skip
    for (field, value), message in cases.items():
        response = call(server, "admin", "PATCH", "/v1/agent/config",
                        headers={"If-Match": tag}, json={field: value})  # fmt: skip
        refused(response, 400, f"invalid agent configuration at '{field}': {message}")
    after = call(server, "admin", "GET", "/v1/agent/config")
    assert after.json() == before and after.headers["ETag"] == tag

    settings = call(server, "admin", "GET", "/v1/customer-control").json()
    for text, message in (
        ("  \n ", "notice_text must not be blank; send null to show the agent "
                  "configuration's privacy notice"),
        ("", "notice_text must not be blank; send null to show the agent "
             "configuration's privacy notice"),
        ("We keep \u202emessages", hidden("notice_text", "U+202E RIGHT-TO-LEFT OVERRIDE")),
        ("We keep\x00 messages", "notice_text must not hold control characters other than "
                                 "line breaks and tabs (such as NUL); write it as plain text"),
    ):  # fmt: skip
        response = call(server, "admin", "PUT", "/v1/customer-control", json={"notice_text": text})
        refused(response, 400, message)
    assert call(server, "admin", "GET", "/v1/customer-control").json() == settings


def test_a_persian_notice_with_zero_width_non_joiners_is_accepted(server: Any) -> None:
    """Persian spelling needs U+200C (and emoji sequences U+200D); they reorder nothing."""
    tenants = server.runtime.tenants
    tenants.create("tehran", "eu")
    admin = tenants.create_key("tehran", "admin")
    disclosure = "شما با یک دستیار هوش مصنوعی گفتگو می\u200cکنید"
    notice = "پیام\u200cها ذخیره می\u200cشوند. 👩\u200d💻"
    changed = _patch(server, admin, {"disclosure": disclosure, "privacy_notice": notice})
    assert changed.status_code == 200, changed.text
    assert (changed.json()["disclosure"], changed.json()["privacy_notice"]) == (disclosure, notice)


def test_notices_stored_before_the_rules_show_the_default(server: Any) -> None:
    """A blank or invisible-character notice saved before the rules loads with the default
    text (and a warning), so conversations and the admin's next change still work."""
    tenants = server.runtime.tenants
    tenants.create("hooli", "eu")
    admin, end_user = (tenants.create_key("hooli", r) for r in ("admin", "end_user"))
    assert _patch(server, admin, {"autonomy": "copilot"}).status_code == 200
    _store(server, "hooli", privacy_notice="  ", disclosure="An AI\u202e answers")
    shown = httpx.get(f"{server.url}/v1/agent/config", headers=auth(admin))
    assert shown.status_code == 200, shown.text
    assert shown.json()["privacy_notice"] == DEFAULT_PRIVACY_NOTICE
    assert shown.json()["disclosure"] == DEFAULT_DISCLOSURE
    assert shown.json()["autonomy"] == "copilot"  # the rest as stored
    started = httpx.post(f"{server.url}/v1/conversations", json={}, headers=auth(end_user))
    assert started.status_code == 201, started.text
    assert started.json()["privacy_notice"] == DEFAULT_PRIVACY_NOTICE
    assert _patch(server, admin, {"thresholds": {"clarify": 0.2}}).status_code == 200

    database = server.settings.data_dir / "regions" / "eu" / "clearline.db"
    assert httpx.put(f"{server.url}/v1/customer-control", headers=auth(admin),
                     json={"notice_version": "3"}).status_code == 200  # fmt: skip
    with sqlite3.connect(database) as db:
        db.execute("UPDATE customer_settings SET notice_text='   ' WHERE tenant='hooli'")
    control = httpx.get(f"{server.url}/v1/customer-control", headers=auth(admin)).json()
    assert control["notice"] == DEFAULT_PRIVACY_NOTICE and control["notice_version"] == "3"


# -- intent names ------------------------------------------------------------------------


def _ask(server: Any, tenant: str) -> httpx.Response:
    user = server.runtime.tenants.create_key(tenant, "end_user")
    started = httpx.post(f"{server.url}/v1/conversations", headers=auth(user), json={}).json()
    headers = {**auth(user), "X-Conversation-Token": started["conversation_token"]}
    path = f"/v1/conversations/{started['conversation_id']}/messages"
    return httpx.post(server.url + path, headers=headers, json={"text": "can I return shoes?"},
                      timeout=60)  # fmt: skip


RESERVED = (
    "invalid agent configuration at 'intents': 'out_of_scope' is reserved (the label of a "
    "message that names no intent); choose another name"
)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("out_of_scope", RESERVED),
        ("", "invalid agent configuration at 'intents': intent name '' must be 1-64 letters, "
             "digits, '_', '-' or '.', starting with a letter or digit"),
        ("returns, exchanges", "invalid agent configuration at 'intents': intent name "
         "'returns, exchanges' must be 1-64 letters, digits, '_', '-' or '.', starting with a "
         "letter or digit"),
        ("x" * 500, "invalid agent configuration at 'intents': intent name "
         f"'{'x' * 40}...' must be 1-64 letters, digits, '_', '-' or '.', starting with a "
         "letter or digit"),
    ],
)  # fmt: skip
def test_an_intent_name_that_is_reserved_or_malformed_is_refused(
    server: Any, name: str, message: str
) -> None:
    """Found in session 32: `out_of_scope` was accepted as an intent name, and then every
    end-user message of the tenant got a 500 (the classifier refuses the name it uses for
    "no intent"); a name with a comma could never be listed in the console's comma-separated
    `autonomous_intents` field, and any text was a name."""
    tenants = server.runtime.tenants
    tenant = f"names-{len(name)}-{name[:3].strip(', _') or 'blank'}"
    tenants.create(tenant, "eu")
    admin = tenants.create_key(tenant, "admin")
    assert _patch(server, admin, {"intents": INTENTS}).status_code == 200
    before = httpx.get(f"{server.url}/v1/agent/config", headers=auth(admin)).json()
    refused(_patch(server, admin, {"intents": {name: ["how do I swap it", "can I exchange"]}}),
            400, message)  # fmt: skip
    assert httpx.get(f"{server.url}/v1/agent/config", headers=auth(admin)).json() == before
    assert _ask(server, tenant).status_code == 200


def test_a_procedure_whose_intent_is_out_of_scope_is_refused(server: Any) -> None:
    """An intent named `out_of_scope` would start its procedure for every message that names
    no intent, and beside a second intent it made every end-user message a 500."""
    tenants = server.runtime.tenants
    tenants.create("names-procedure", "eu")
    admin = tenants.create_key("names-procedure", "admin")
    assert _patch(server, admin, {"intents": INTENTS}).status_code == 200
    put = _put_procedure(server, admin, _procedure("opening-hours", "out_of_scope"))
    refused(put, 400, "procedure file 'upload.yaml': intents: 'out_of_scope' is reserved (the "
            "label of a message that names no intent); choose another name")  # fmt: skip
    assert _procedure_ids(server, admin) == []
    assert _ask(server, "names-procedure").status_code == 200


def test_an_intent_named_out_of_scope_stored_earlier_is_left_out_and_the_agent_answers(
    server: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """Stored before names were checked, the reserved name made every message a 500; the
    agent is now built without it, and the operator's log says so."""
    tenants = server.runtime.tenants
    tenants.create("names-stored", "eu")
    admin = tenants.create_key("names-stored", "admin")
    assert _patch(server, admin, {"intents": INTENTS}).status_code == 200
    _store(server, "names-stored",
           intents={**INTENTS, "out_of_scope": ["how do I swap it", "can I exchange"]})  # fmt: skip
    with caplog.at_level("ERROR", logger="conversations.agents"):
        assert _ask(server, "names-stored").status_code == 200
    assert "tenant names-stored: the intent 'out_of_scope' is left out" in caplog.text
    shown = httpx.get(f"{server.url}/v1/agent/config", headers=auth(admin)).json()
    assert "out_of_scope" in shown["intents"]  # stored as it was: the admin removes it
    removed = _patch(server, admin, {"intents": {"out_of_scope": None}})
    assert removed.status_code == 200 and set(removed.json()["intents"]) == set(INTENTS)


# -- procedure YAML ----------------------------------------------------------------------


def _alias_bomb(depth: int) -> str:
    """A procedure whose action body nests `depth` levels of nine aliases each: 9**depth
    strings from a few hundred bytes of YAML ("billion laughs")."""
    levels = ['l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, depth):
        levels.append(f"l{level}: &l{level} [" + ", ".join([f"*l{level - 1}"] * 9) + "]")
    body = "\n        ".join(levels)
    return (
        "id: laughs\ntitle: Laughs\nintents: [laughs]\nexamples: [ha, haha]\nsteps:\n"
        "  - id: call\n    action:\n      name: call\n      connection: shop\n      url: /x\n"
        f"      body:\n        {body}\n    save_as: r\n  - id: done\n    reply: done\n"
    )


@pytest.mark.parametrize("depth", [2, 9])
def test_a_procedure_with_yaml_aliases_is_refused(server: Any, depth: int) -> None:
    """Found in session 32: a 600-byte procedure whose aliases expand to 9**9 strings was
    accepted, checking it took minutes of CPU that every tenant shares, and its action body
    would expand in memory on every call. Aliases (`*name`) are refused, with the line."""
    tenants = server.runtime.tenants
    tenant = f"laughs-{depth}"
    tenants.create(tenant, "eu")
    admin = tenants.create_key(tenant, "admin")
    server.runtime.agents.put_connection(tenant, "shop", ConnectionSpec("https://shop.example/"))
    put = _put_procedure(server, admin, _alias_bomb(depth))
    refused(put, 400, "procedure file 'upload.yaml': invalid YAML at line 13, column 18: "
            "aliases (*name) are not allowed in a procedure; write the value out")  # fmt: skip
    assert _procedure_ids(server, admin) == []


# -- how many example utterances ---------------------------------------------------------


def test_too_many_or_too_long_example_utterances_are_refused(server: Any) -> None:
    """Found in session 32: any number of examples was accepted (10 MB of them, some 300,000),
    and the classifier is fitted on all of them, at about 2 ms each, in the first turn after
    every change, on CPU every tenant shares."""
    tenants = server.runtime.tenants
    tenants.create("many-examples", "eu")
    admin = tenants.create_key("many-examples", "admin")
    put = _put_procedure(server, admin, PROCEDURE)
    assert put.status_code == 200, put.text  # two examples of its own
    before = httpx.get(f"{server.url}/v1/agent/config", headers=auth(admin)).json()
    many = {"intents": {"a": [f"question {i}" for i in range(2500)],
                        "b": [f"request {i}" for i in range(2499)]}}  # fmt: skip
    too_many = ("invalid agent configuration at 'intents': 5,001 example utterances in all "
                "(the configuration's and the procedures'); at most 5,000, as the intent "
                "classifier is fitted on all of them after every change")  # fmt: skip
    refused(_patch(server, admin, many), 400, too_many)
    long = {"intents": {"a": ["fine", "x" * 501]}}
    refused(_patch(server, admin, long), 400, "invalid agent configuration at 'intents': an "
            "example utterance of intent 'a' has 501 characters; at most 500")  # fmt: skip
    assert httpx.get(f"{server.url}/v1/agent/config", headers=auth(admin)).json() == before
    fits = {"intents": {"a": [f"question {i}" for i in range(2500)],
                        "b": [f"request {i}" for i in range(2498)]}}  # fmt: skip
    assert _patch(server, admin, fits).status_code == 200
    put = _put_procedure(server, admin, _procedure("closing-hours", "closing_hours"))
    refused(put, 400, "procedure 'closing-hours': 5,002 example utterances in all (the "
            "configuration's and the procedures'); at most 5,000, as the intent classifier is "
            "fitted on all of them after every change")  # fmt: skip
    assert _procedure_ids(server, admin) == ["opening-hours"]


def test_an_intent_cannot_be_both_the_configurations_and_a_procedures(server: Any) -> None:
    """Found in session 32: a configuration intent named like a procedure's intent silently
    added its examples to that procedure's, although the configuration's intents are those
    that start no procedure (the console says so); and a procedure could take over one."""
    tenants = server.runtime.tenants
    tenants.create("shared-names", "eu")
    admin = tenants.create_key("shared-names", "admin")
    put = _put_procedure(server, admin, PROCEDURE)
    assert put.status_code == 200, put.text
    assert _patch(server, admin, {"intents": INTENTS}).status_code == 200
    before = httpx.get(f"{server.url}/v1/agent/config", headers=auth(admin)).json()
    taken = {"intents": {"opening_hours": ["are you open today", "when do you close"]}}
    refused(_patch(server, admin, taken), 400, "invalid agent configuration at 'intents': "
            "'opening_hours' is an intent of procedure 'opening-hours'; these intents start no "
            "procedure, so add its examples to that procedure instead")  # fmt: skip
    assert httpx.get(f"{server.url}/v1/agent/config", headers=auth(admin)).json() == before
    put = _put_procedure(server, admin, _procedure("returns-desk", "returns"))
    refused(put, 400, "procedure 'returns-desk': intent 'returns' is in the agent "
            "configuration's intents, which start no procedure; remove it there first, or give "
            "this procedure's intent another name")  # fmt: skip
    assert _procedure_ids(server, admin) == ["opening-hours"]
