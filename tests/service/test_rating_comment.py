"""Rating a reply over HTTP never loses the end user's comment.

A rating request without `comment` keeps the stored comment; `comment` null or empty removes
it. The end user reads their comment back (in the rating's answer and the conversation), a
human agent does not, and bad input is refused with a clear error and changes nothing. The
chat page's own route (/ui/chat/api/ratings/{id}) behaves the same.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from control.tenants import ROLES
from tests.conftest import LiveServer, free_port
from tests.service.helpers import auth, console_sign_in, seed_returns_policy

QUESTION = "How long do I have to return a defective item?"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from service.settings import Settings

    settings = Settings(data_dir=tmp_path_factory.mktemp("rating"), port=free_port())
    with LiveServer(settings) as live:
        live.runtime.tenants.create("acme", "eu")
        seed_returns_policy(live.runtime, "acme")
        live.keys = {role: live.runtime.tenants.create_key("acme", role) for role in ROLES}
        yield live


class EndUser:
    """One end user's conversation through /v1, with its token."""

    def __init__(self, server: Any) -> None:
        self.server = server
        self.token = ""
        started = self.call("POST", "/v1/conversations", json={})
        assert started.status_code == 201, started.text
        self.conversation_id = started.json()["conversation_id"]
        self.token = started.json()["conversation_token"]
        said = self.call(
            "POST", f"/v1/conversations/{self.conversation_id}/messages", json={"text": QUESTION}
        )
        assert said.status_code == 200, said.text
        self.reply_id: str = said.json()["message_id"]

    def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = auth(self.server.keys["end_user"])
        if self.token:
            headers["X-Conversation-Token"] = self.token
        return httpx.request(method, self.server.url + path, headers=headers, timeout=120, **kwargs)

    def rate(self, body: dict[str, Any]) -> httpx.Response:
        return self.call("POST", f"/v1/messages/{self.reply_id}/rating", json=body)

    def stored(self) -> dict[str, Any]:
        """The reply as the end user reads it back in the conversation."""
        conversation = self.call("GET", f"/v1/conversations/{self.conversation_id}")
        assert conversation.status_code == 200, conversation.text
        (reply,) = [m for m in conversation.json()["messages"] if m["id"] == self.reply_id]
        return {"rating": reply["rating"], "comment": reply["rating_comment"]}


def test_a_new_rating_without_a_comment_keeps_the_stored_one(server: Any) -> None:
    user = EndUser(server)
    down = user.rate({"rating": "down", "comment": "It did not say who pays the postage"})
    assert down.status_code == 200, down.text
    assert down.json()["rating_comment"] == "It did not say who pays the postage"

    up = user.rate({"rating": "up"})
    assert up.status_code == 200, up.text
    assert up.json()["rating"] == "up"
    assert up.json()["rating_comment"] == "It did not say who pays the postage"
    assert user.stored() == {"rating": "up", "comment": "It did not say who pays the postage"}

    replaced = user.rate({"rating": "up", "comment": "Clear now, thanks"})
    assert replaced.json()["rating_comment"] == "Clear now, thanks"
    assert user.stored() == {"rating": "up", "comment": "Clear now, thanks"}


@pytest.mark.parametrize("cleared", [None, "", "   "], ids=["null", "empty", "blank"])
def test_a_null_or_empty_comment_removes_it(server: Any, cleared: str | None) -> None:
    user = EndUser(server)
    assert user.rate({"rating": "down", "comment": "Wrong policy"}).status_code == 200
    removed = user.rate({"rating": "down", "comment": cleared})
    assert removed.status_code == 200, removed.text
    assert removed.json()["rating_comment"] is None
    assert user.stored() == {"rating": "down", "comment": None}


def test_bad_ratings_are_refused_and_change_nothing(server: Any) -> None:
    user = EndUser(server)
    assert user.rate({"rating": "down", "comment": "Too vague"}).status_code == 200
    for body, words in (
        ({"rating": "meh", "comment": "x"}, ("body.rating", "'up' or 'down'")),
        ({"comment": "only a comment"}, ("body.rating", "required")),
        ({"rating": "up", "comment": "x" * 2001}, ("body.comment", "at most 2000 characters")),
        ({"rating": "up", "stars": 5}, ("body.stars", "not permitted")),
        ({"rating": "up", "comment": 5}, ("body.comment", "valid string")),
    ):
        refused = user.rate(body)
        assert refused.status_code == 422, (body, refused.text)
        message = refused.json()["error"]["message"]
        assert all(w in message for w in words), message
        assert user.stored() == {"rating": "down", "comment": "Too vague"}, body
    longest = user.rate({"rating": "up", "comment": "y" * 2000})
    assert longest.status_code == 200 and longest.json()["rating_comment"] == "y" * 2000


def test_only_the_end_user_reads_the_comment_back(server: Any) -> None:
    user = EndUser(server)
    assert user.rate({"rating": "down", "comment": "My address is in the comment"}).is_success
    as_agent = httpx.get(
        f"{server.url}/v1/conversations/{user.conversation_id}",
        headers=auth(server.keys["agent"]),
        timeout=60,
    )
    assert as_agent.status_code == 200, as_agent.text
    (reply,) = [m for m in as_agent.json()["messages"] if m["id"] == user.reply_id]
    assert reply["rating"] == "down" and reply["rating_comment"] is None
    assert "My address" not in as_agent.text

    # Another end user (same key, no token) reaches neither the reply nor its comment.
    stranger = httpx.post(
        f"{server.url}/v1/messages/{user.reply_id}/rating",
        headers=auth(server.keys["end_user"]),
        json={"rating": "up", "comment": None},
        timeout=60,
    )
    assert stranger.status_code == 404 and "My address" not in stranger.text
    assert user.stored() == {"rating": "down", "comment": "My address is in the comment"}


def test_the_chat_page_route_keeps_the_comment_after_a_reload(server: Any) -> None:
    with httpx.Client(base_url=server.url, timeout=120, headers={"Origin": server.url}) as client:
        csrf = console_sign_in(client, server.keys["end_user"])
        headers = {"X-CSRF-Token": csrf}
        said = client.post("/ui/chat/api/messages", headers=headers, json={"text": QUESTION})
        assert said.status_code == 200, said.text
        reply_id = said.json()["message_id"]
        path = f"/ui/chat/api/ratings/{reply_id}"

        def reloaded() -> dict[str, Any]:  # what the page reads when it is loaded again
            body = client.get("/ui/chat/api/conversation").json()["conversation"]
            (reply,) = [m for m in body["messages"] if m["id"] == reply_id]
            return {"rating": reply["rating"], "comment": reply["rating_comment"]}

        commented = {"rating": "down", "comment": "I asked about gift cards"}
        assert client.post(path, headers=headers, json=commented).status_code == 200
        assert reloaded() == commented
        # After a reload the page no longer knows the comment and sends the rating alone.
        assert client.post(path, headers=headers, json={"rating": "up"}).status_code == 200
        assert reloaded() == {"rating": "up", "comment": "I asked about gift cards"}

        too_long = client.post(path, headers=headers, json={"rating": "up", "comment": "z" * 2001})
        assert too_long.status_code == 422 and "2000" in too_long.text
        assert reloaded() == {"rating": "up", "comment": "I asked about gift cards"}

        cleared = client.post(path, headers=headers, json={"rating": "up", "comment": None})
        assert cleared.status_code == 200, cleared.text
        assert reloaded() == {"rating": "up", "comment": None}
