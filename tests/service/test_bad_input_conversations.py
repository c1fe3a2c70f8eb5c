"""Bad conversation input over HTTP gets a refusal that says what to do, and changes nothing:
nothing more goes into a closed conversation (not from a person, not from the end user, not
by approving a draft), a blank edit of a draft is refused (and `edited` in the audit means
the sent text differs from the draft), a JSON body sent without its Content-Type is named
as such, a missing source names the API request (not a CLI command), and ids a client sent
are echoed cut and escaped."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.service.helpers import acme_server, auth

QUESTION = "How long do I have to return a defective item?"
BLANK_EDIT = "body.text: text must not be blank; omit it to send the draft as written"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Any:
    with acme_server(
        tmp_path_factory, "bad-conv", ("admin", "agent", "end_user"), seed=True
    ) as live:
        yield live


TOKENS: dict[str, str] = {}


def call(server: Any, role: str, method: str, path: str, headers: Any = None,
         **kwargs: Any) -> httpx.Response:  # fmt: skip
    headers = {**auth(server.keys[role]), **(headers or {})}
    return httpx.request(method, server.url + path, timeout=120, headers=headers, **kwargs)


def refused(response: httpx.Response, status: int, message: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["error"]["message"] == message


def start(server: Any) -> str:
    started = call(server, "end_user", "POST", "/v1/conversations", json={})
    assert started.status_code == 201, started.text
    conversation: str = started.json()["conversation_id"]
    TOKENS[conversation] = started.json()["conversation_token"]
    return conversation


def token(conversation: str) -> dict[str, str]:
    return {"X-Conversation-Token": TOKENS[conversation]}


def say(server: Any, conversation: str, text: str = QUESTION) -> httpx.Response:
    return call(server, "end_user", "POST", f"/v1/conversations/{conversation}/messages",
                headers=token(conversation), json={"text": text})  # fmt: skip


def seen(server: Any, conversation: str, role: str = "agent") -> dict[str, Any]:
    response = call(server, role, "GET", f"/v1/conversations/{conversation}",
                    headers=token(conversation))  # fmt: skip
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def set_status(server: Any, conversation: str, status: str) -> None:
    response = call(server, "agent", "POST", f"/v1/conversations/{conversation}/status",
                    json={"status": status})  # fmt: skip
    assert response.status_code == 200, response.text


def closed(conversation: str) -> str:
    return (
        f"conversation '{conversation}' is closed, so nothing more is sent in it; to write to "
        f"the customer again, reopen it first with POST /v1/conversations/{conversation}/status "
        '{"status": "open"}'
    )


@pytest.fixture
def copilot(server: Any) -> Any:
    """Every reply waits as a draft for a person's approval while the test runs."""

    def configure(autonomy: str) -> None:
        etag = call(server, "admin", "GET", "/v1/agent/config").headers["ETag"]
        changed = call(server, "admin", "PATCH", "/v1/agent/config",
                       headers={"If-Match": etag}, json={"autonomy": autonomy})  # fmt: skip
        assert changed.status_code == 200, changed.text

    configure("copilot")
    yield
    configure("autonomous")


def draft_of(server: Any, conversation: str) -> dict[str, Any]:
    """A new draft in `conversation`, as the human agents' queue lists it."""
    assert say(server, conversation).json()["decision"] == "draft"
    drafts = call(server, "agent", "GET", "/v1/drafts").json()
    draft: dict[str, Any] = next(d for d in drafts if d["conversation_id"] == conversation)
    return draft


def review(server: Any, message_id: str, **body: Any) -> httpx.Response:
    return call(server, "agent", "POST", f"/v1/drafts/{message_id}/review", json=body)


def pending(server: Any) -> set[str]:
    return {d["message_id"] for d in call(server, "agent", "GET", "/v1/drafts").json()}


def audited_edit(server: Any, message_id: str) -> bool:
    entries = call(server, "admin", "GET", "/v1/audit", params={"limit": 1000}).json()["entries"]
    (entry,) = [e for e in entries if e["action"] == "draft.review"
                and e["detail"]["message"] == message_id]  # fmt: skip
    edited: bool = entry["detail"]["edited"]
    return edited


# -- closed conversations --------------------------------------------------------------


def test_a_person_cannot_reply_into_a_closed_conversation(server: Any) -> None:
    conversation = start(server)
    assert say(server, conversation).status_code == 200
    set_status(server, conversation, "closed")
    before = seen(server, conversation)
    reply = call(server, "agent", "POST", f"/v1/conversations/{conversation}/replies",
                 json={"text": "Hi, Sam here: anything else?"})  # fmt: skip
    refused(reply, 409, closed(conversation))
    assert seen(server, conversation) == before
    assert before["status"] == "closed"
    # Reopened, the person's reply goes through.
    set_status(server, conversation, "open")
    again = call(server, "agent", "POST", f"/v1/conversations/{conversation}/replies",
                 json={"text": "Hi, Sam here: anything else?"})  # fmt: skip
    assert again.status_code == 201, again.text
    assert seen(server, conversation, "end_user")["messages"][-1]["role"] == "human_agent"


def test_the_end_user_cannot_write_into_a_closed_conversation(server: Any) -> None:
    conversation = start(server)
    assert say(server, conversation).status_code == 200
    set_status(server, conversation, "closed")
    before = seen(server, conversation)
    refused(
        say(server, conversation, "one more thing"), 409,
        f"conversation '{conversation}' is closed, so it takes no more messages; start a new "
        "conversation (POST /v1/conversations)",
    )  # fmt: skip
    assert seen(server, conversation) == before


def test_a_draft_is_not_sent_into_a_closed_conversation_and_stays_pending(
    server: Any, copilot: None
) -> None:
    conversation = start(server)
    draft = draft_of(server, conversation)
    set_status(server, conversation, "closed")
    before = seen(server, conversation, "end_user")
    refused(
        review(server, draft["message_id"], approve=True), 409,
        f"draft '{draft['message_id']}' was not sent and nothing ran: {closed(conversation)}"
        ", then approve it again; or reject the draft (it stays pending until then)",
    )  # fmt: skip
    assert seen(server, conversation, "end_user") == before
    assert "30 days" not in json.dumps(before)
    assert draft["message_id"] in pending(server)
    # Rejecting clears it from the queue; the conversation stays closed (no handoff).
    rejected = review(server, draft["message_id"], approve=False)
    assert rejected.status_code == 200, rejected.text
    assert rejected.json()["draft_status"] == "rejected"
    assert draft["message_id"] not in pending(server)
    assert seen(server, conversation)["status"] == "closed"
    assert seen(server, conversation, "end_user") == before


# -- draft edits -----------------------------------------------------------------------


def test_a_blank_edit_is_refused_and_the_draft_stays_pending(server: Any, copilot: None) -> None:
    conversation = start(server)
    draft = draft_of(server, conversation)
    before = seen(server, conversation, "end_user")
    for blank in ("", "   ", "\n\t"):
        refused(review(server, draft["message_id"], approve=True, text=blank), 422, BLANK_EDIT)
        refused(review(server, draft["message_id"], approve=False, text=blank), 422, BLANK_EDIT)
    assert draft["message_id"] in pending(server)
    assert seen(server, conversation, "end_user") == before
    approved = review(server, draft["message_id"], approve=True)
    assert approved.status_code == 200, approved.text
    assert approved.json()["text"] == draft["text"]
    assert audited_edit(server, draft["message_id"]) is False


def test_edited_in_the_audit_means_the_sent_text_differs_from_the_draft(
    server: Any, copilot: None
) -> None:
    same = draft_of(server, start(server))
    sent = review(server, same["message_id"], approve=True, text=f"  {same['text']}  ")
    assert sent.status_code == 200, sent.text
    assert sent.json()["text"] == same["text"]
    assert audited_edit(server, same["message_id"]) is False

    conversation = start(server)
    changed = draft_of(server, conversation)
    edit = "Within 30 days of delivery, for a full refund (checked by a person)."
    sent = review(server, changed["message_id"], approve=True, text=edit)
    assert sent.status_code == 200, sent.text
    assert seen(server, conversation, "end_user")["messages"][-1]["text"] == edit
    assert audited_edit(server, changed["message_id"]) is True


# -- unclear errors --------------------------------------------------------------------


def test_a_json_body_without_its_content_type_is_named_as_such(server: Any) -> None:
    conversation = start(server)
    before = seen(server, conversation)
    path = f"/v1/conversations/{conversation}/messages"
    raw = json.dumps({"text": QUESTION}).encode()
    json_body = "body: send the body as JSON with Content-Type: application/json"
    refused(call(server, "end_user", "POST", path, headers=token(conversation), content=raw),
            422, f"{json_body} (the request's Content-Type was missing)")  # fmt: skip
    plain = {**token(conversation), "Content-Type": "text/plain"}
    refused(call(server, "end_user", "POST", path, headers=plain, content=raw),
            422, f"{json_body} (the request's Content-Type was 'text/plain')")  # fmt: skip
    refused(call(server, "end_user", "POST", "/v1/conversations", content=b"{}"),
            422, f"{json_body} (the request's Content-Type was missing)")  # fmt: skip
    assert seen(server, conversation) == before
    # Real validation problems of a JSON body still name the field.
    empty = call(server, "end_user", "POST", path, headers=token(conversation), json={"text": ""})
    refused(empty, 422, "body.text: String should have at least 1 character")


def test_api_errors_name_api_requests_not_cli_commands(server: Any) -> None:
    before = call(server, "admin", "GET", "/v1/knowledge/sources").json()
    assert [s["document_id"] for s in before["sources"]] == ["returns.md"]
    refused(
        call(server, "admin", "DELETE", "/v1/knowledge/sources/refunds.md"), 404,
        "there is no knowledge source 'refunds.md'; list the sources with "
        "GET /v1/knowledge/sources",
    )  # fmt: skip
    assert call(server, "admin", "GET", "/v1/knowledge/sources").json() == before
    named = call(server, "end_user", "POST", "/v1/conversations", json={"end_user_id": "u-1"})
    assert named.status_code == 403, named.text
    assert "clearline " not in named.json()["error"]["message"]
    assert "leave end_user_id out" in named.json()["error"]["message"]


def test_ids_sent_by_a_client_are_echoed_cut_and_escaped(server: Any) -> None:
    long_id = "conv_" + "x" * 2000
    shown = "'conv_" + "x" * 75 + "…'"
    for role in ("agent", "end_user"):
        refused(call(server, role, "GET", f"/v1/conversations/{long_id}"), 404,
                f"conversation {shown} does not exist")  # fmt: skip
    refused(call(server, "agent", "GET", "/v1/conversations/conv%0A%1Bevil"), 404,
            "conversation 'conv\\n\\x1bevil' does not exist")  # fmt: skip
    refused(review(server, "msg_" + "y" * 2000, approve=True), 404,
            "draft 'msg_" + "y" * 76 + "…' does not exist")  # fmt: skip
    rated = call(server, "end_user", "POST", f"/v1/messages/msg_{'z' * 2000}/rating",
                 json={"rating": "up"})  # fmt: skip
    refused(rated, 404, "reply 'msg_" + "z" * 76 + "…' does not exist")
    refused(call(server, "admin", "DELETE", f"/v1/knowledge/sources/{'d' * 2000}"), 404,
            f"there is no knowledge source '{'d' * 80}…'; list the sources with "
            "GET /v1/knowledge/sources")  # fmt: skip
