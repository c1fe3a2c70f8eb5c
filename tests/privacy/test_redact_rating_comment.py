"""The end user's rating comment is personal data like their messages, over the real HTTP API.

A down-rating with a comment holding a card number and a phone number: redaction suggestions
list both in the comment; applying them leaves placeholders in the stored comment and in
what the QA lead reads in the review queue, and no byte of the values in any file. The
review queue refers to the rating instead of copying its comment, so a comment the end user
changes or removes is gone from the queue too, and erasing the end user leaves none of it
(erasure already covered both before; the test keeps it so).
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from control.models import QueueItem
from control.regional import in_region
from tests.conftest import LiveServer
from tests.privacy.canary import call, occurrences, upload
from tests.privacy.identified import RETURNS, SHIPPING, EndUser, settings

CARD = "4111 1111 1111 1111"
PHONE = "+44 20 7946 0958"
REDACTED = "my card [CREDIT_CARD] was charged twice, call me on [PHONE_NUMBER]"
PLAIN = "It did not say who pays the postage"
RETURN_QUESTION = "How long do I have to return a defective item?"


def comment(card: str, phone: str) -> str:
    return f"my card {card} was charged twice, call me on {phone}"


def spellings(card: str, phone: str) -> tuple[str, ...]:
    """What a byte scan must not find: the values, the card's digits, the phone's end."""
    return card, phone, card.replace(" ", ""), phone[-9:]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Any:
    data_dir = tmp_path_factory.mktemp("rating_comment") / "data"
    with LiveServer(settings(data_dir, qa_interval_s=60)) as live:
        runtime = live.runtime
        runtime.tenants.create("acme", "eu")
        live.keys = {role: runtime.tenants.create_key("acme", role)
                     for role in ("admin", "agent", "qa_lead")}  # fmt: skip
        live.keys["backend"] = runtime.tenants.create_key("acme", "end_user", asserts_identity=True)
        upload(live.url, live.keys["admin"], {"returns.md": RETURNS, "shipping.md": SHIPPING})
        yield live


def _user(server: Any, end_user_id: str) -> EndUser:
    return EndUser(server.url, server.keys["backend"], end_user_id).start()


def _rate(user: EndUser, message_id: str, body: dict[str, Any]) -> dict[str, Any]:
    response = call(user.url, user.key, "POST", f"/v1/messages/{message_id}/rating", json=body,
                    headers={"Authorization": f"Bearer {user.key}",
                             "X-Conversation-Token": user.token})  # fmt: skip
    assert response.status_code == 200, response.text
    return dict(response.json())


def _reply_as_read_by(user: EndUser, message_id: str) -> dict[str, Any]:
    response = call(user.url, user.key, "GET", f"/v1/conversations/{user.conversation_id}",
                    headers={"Authorization": f"Bearer {user.key}",
                             "X-Conversation-Token": user.token})  # fmt: skip
    assert response.status_code == 200, response.text
    (reply,) = [m for m in response.json()["messages"] if m["id"] == message_id]
    return dict(reply)


def _queue_reasons(server: Any) -> dict[str, list[str]]:
    response = call(server.url, server.keys["qa_lead"], "GET", "/v1/qa/queue")
    assert response.status_code == 200, response.text
    return {entry["trace_id"]: entry["reasons"] for entry in response.json()}


def test_suggestions_find_personal_data_in_a_rating_comment_and_redaction_clears_every_copy(
    server: Any,
) -> None:
    user = _user(server, "cust-rc-1001")
    reply = user.say(RETURN_QUESTION)
    other = _user(server, "cust-rc-1002")
    other_reply = other.say("How long does shipping to Canada take?")
    _rate(other, other_reply["message_id"], {"rating": "down", "comment": PLAIN})
    said = comment(CARD, PHONE)
    rated = _rate(user, reply["message_id"], {"rating": "down", "comment": said})
    assert rated["rating_comment"] == said
    # The QA lead reads the comment with the down-rating in the queue.
    assert f"rated down by the end user: {said}" in _queue_reasons(server)[reply["trace_id"]]

    path = f"/v1/conversations/{user.conversation_id}/redactions"
    listed = call(server.url, server.keys["agent"], "GET", path)
    assert listed.status_code == 200, listed.text
    in_comment = [
        s for s in listed.json()["suggestions"]
        if s["field"] == "rating_comment" and s["record_id"] == reply["message_id"]
    ]  # fmt: skip
    assert {(s["entity_type"], s["text"]) for s in in_comment} == {
        ("CREDIT_CARD", CARD), ("PHONE_NUMBER", PHONE)
    }  # fmt: skip
    assert all(s["source"] == "message" for s in in_comment)

    applied = call(server.url, server.keys["agent"], "POST", path,
                   json={"ids": [s["id"] for s in in_comment]})  # fmt: skip
    assert applied.status_code == 200, applied.text
    assert sorted(applied.json()["applied"]) == sorted(s["id"] for s in in_comment)
    assert applied.json()["redaction"]["stores"]["messages"] >= 2

    # Nothing of the values left to suggest, to read, or in any file of the data directory.
    again = call(server.url, server.keys["agent"], "GET", path).json()["suggestions"]
    assert not {CARD, PHONE} & {s["text"] for s in again}
    read = _reply_as_read_by(user, reply["message_id"])
    assert read["rating_comment"] == REDACTED and read["rating"] == "down"
    reasons = _queue_reasons(server)
    assert f"rated down by the end user: {REDACTED}" in reasons[reply["trace_id"]]
    assert not any(v in r for r in reasons[reply["trace_id"]] for v in (CARD, PHONE))
    assert occurrences(server.settings.data_dir, spellings(CARD, PHONE)) == []
    # Other data intact: the question and answer, the other end user's comment.
    assert _reply_as_read_by(user, reply["message_id"])["text"] == reply["text"]
    assert f"rated down by the end user: {PLAIN}" in reasons[other_reply["trace_id"]]
    assert _reply_as_read_by(other, other_reply["message_id"])["rating_comment"] == PLAIN


def test_a_changed_or_removed_comment_leaves_no_copy_in_the_review_queue(server: Any) -> None:
    card, phone = "5555 5555 5555 4444", "+44 20 7946 0321"
    user = _user(server, "cust-rc-2001")
    reply = user.say(RETURN_QUESTION)
    trace = reply["trace_id"]
    _rate(user, reply["message_id"], {"rating": "down", "comment": comment(card, phone)})
    assert f"rated down by the end user: {comment(card, phone)}" in _queue_reasons(server)[trace]

    _rate(user, reply["message_id"], {"rating": "down", "comment": PLAIN})
    reasons = _queue_reasons(server)[trace]
    rated = [r for r in reasons if r.startswith("rated down")]
    assert rated == [f"rated down by the end user: {PLAIN}"], reasons

    _rate(user, reply["message_id"], {"rating": "down", "comment": None})
    reasons = _queue_reasons(server)[trace]
    assert [r for r in reasons if r.startswith("rated down")] == ["rated down by the end user"]
    assert not any(v in r for r in reasons for v in (card, phone, PLAIN))
    # A comment sent with a later up-rating is not shown as the down-rating's reason.
    _rate(user, reply["message_id"], {"rating": "up", "comment": "Sorted now, thanks"})
    assert "rated down by the end user" in _queue_reasons(server)[trace]
    assert not any("Sorted" in r for r in _queue_reasons(server)[trace])
    with in_region("eu"), server.runtime.sessions() as session:
        stored = session.scalars(select(QueueItem.reasons)).all()
    assert stored and not any(v in r for r in stored for v in (card, phone, PLAIN))


def test_erasing_the_end_user_removes_the_comment_and_its_queue_entry(server: Any) -> None:
    card, phone = "4012 8888 8888 1881", "+44 20 7946 0777"
    user = _user(server, "cust-rc-3001")
    reply = user.say(RETURN_QUESTION)
    _rate(user, reply["message_id"], {"rating": "down", "comment": comment(card, phone)})
    assert reply["trace_id"] in _queue_reasons(server)
    assert occurrences(server.settings.data_dir, (card,))

    erased = call(server.url, server.keys["admin"], "POST", "/v1/privacy/erasures",
                  json={"end_user_id": "cust-rc-3001"})  # fmt: skip
    assert erased.status_code == 200, erased.text
    assert erased.json()["counts"]["messages"] == 2
    assert erased.json()["counts"]["queue_items"] == 1
    assert reply["trace_id"] not in _queue_reasons(server)
    assert occurrences(server.settings.data_dir, spellings(card, phone)) == []
