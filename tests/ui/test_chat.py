"""The end user's chat in a real browser: an answer with its AI label, disclosure and an
expandable citation; replies in the order sent when the network holds a request; a comment
made while its rating is still on the network is stored and thanked for; what an
end-user sign-in cannot open; markup in messages stays text."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from playwright.sync_api import expect
from sqlalchemy import select

from control.models import Conversation, Message
from control.regional import in_region
from service.serving import ThreadedServer
from tests.conftest import free_port
from tests.ui.serve import XSS, Console, assert_nothing_ran, send, sign_in

pytestmark = pytest.mark.browser


def test_end_user_gets_an_answer_with_ai_label_and_expandable_citation(
    console: Console, new_context: Any
) -> None:
    page = sign_in(new_context(), console.url, console.keys["end_user"])
    assert page.url.endswith("/ui/chat")
    expect(page.locator("#privacy-notice")).to_contain_text("stored")
    expect(page.locator("#disclosure")).to_contain_text("AI")

    send(page, "What payment methods do you accept?")

    reply = page.locator("li.msg-assistant").last
    expect(reply.locator(".bubble")).to_contain_text("PayPal")
    expect(reply.locator(".ai-label")).to_have_text("AI-generated reply")
    expect(reply.locator(".msg-disclosure").first).to_contain_text("AI assistant")
    citation = reply.locator("details.cite").first
    quote = citation.locator("blockquote")
    expect(quote).to_be_hidden()
    citation.locator("summary").focus()
    page.keyboard.press("Enter")  # keyboard only
    expect(quote).to_be_visible()
    expect(quote).not_to_be_empty()
    assert "PayPal" in reply.locator(".bubble").inner_text()
    expect(page.get_by_role("button", name="Talk to a human")).to_be_visible()


def test_replies_come_in_the_order_sent_while_a_request_is_held(
    console: Console, new_context: Any
) -> None:
    page = sign_in(new_context(), console.url, console.keys["end_user"])
    held: list[Any] = []

    def hold_the_first(route: Any) -> None:
        if held:
            route.continue_()
        else:
            held.append(route)  # a slow network: this request waits until released

    page.route("**/ui/chat/api/messages", hold_the_first)

    send(page, "What payment methods do you accept?")
    send(page, "What are your store hours?")
    user = page.locator("li.msg-user")
    expect(user.nth(0).locator(".sending")).to_have_text("Sending…")
    expect(user.nth(1).locator(".sending")).to_have_text("Waiting to send…")
    assert len(held) == 1, "the second message must wait for the first reply"

    held[0].continue_()
    roles = page.locator("ol.messages > li")
    expect(roles).to_have_count(4)
    texts = [roles.nth(i).get_attribute("data-role") for i in range(4)]
    assert texts == ["user", "assistant", "user", "assistant"]
    expect(roles.nth(1).locator(".bubble")).to_contain_text("PayPal")
    expect(roles.nth(0).locator(".bubble")).to_have_text("What payment methods do you accept?")
    expect(roles.nth(2).locator(".bubble")).to_have_text("What are your store hours?")


def test_rating_with_a_comment_is_recorded(console: Console, new_context: Any) -> None:
    page = sign_in(new_context(), console.url, console.keys["end_user"])
    send(page, "What payment methods do you accept?")
    reply = page.locator("li.msg-assistant").last
    expect(reply.locator(".bubble")).to_contain_text("PayPal")
    reply.get_by_role("button", name="Not helpful").click()
    reply.get_by_label("Comment on this reply (optional)").fill("I asked about gift cards")
    reply.get_by_label("Comment on this reply (optional)").press("Enter")
    expect(reply.get_by_role("status")).to_have_text("Thanks, your comment was sent.")
    with in_region("eu"), console.runtime.sessions() as db:
        rated = db.scalars(select(Message).where(Message.rating == "down")).all()
    assert any(m.rating_comment == "I asked about gift cards" for m in rated)


def test_a_comment_sent_while_the_rating_is_in_flight_is_kept(
    console: Console, new_context: Any
) -> None:
    """Rate, then comment before the rating's reply is back (a slow network): the comment
    reaches the server after the rating, is stored, and the later status is the one shown;
    a later change of rating keeps the comment, also after the page is reloaded."""
    page = sign_in(new_context(), console.url, console.keys["end_user"])
    send(page, "What payment methods do you accept?")
    reply = page.locator("li.msg-assistant").last
    expect(reply.locator(".bubble")).to_contain_text("PayPal")
    held: list[Any] = []
    served: list[dict[str, Any]] = []  # rating bodies in the order the server answered them

    def hold_the_rating_alone(route: Any) -> None:
        if "comment" not in route.request.post_data_json:
            held.append(route)  # the rating alone waits on the network until released
            return
        response = route.fetch()
        served.append(route.request.post_data_json)
        route.fulfill(response=response)

    page.route("**/ui/chat/api/ratings/*", hold_the_rating_alone)
    status = reply.get_by_role("status")
    box = reply.get_by_label("Comment on this reply (optional)")
    reply.get_by_role("button", name="Not helpful").click()
    box.fill("I asked about gift cards")
    box.press("Enter")
    # The page has taken the comment: it says so while waiting its turn, or (sent at once,
    # overtaking the rating) thanks for it.
    expect(status).to_contain_text("comment")
    assert len(held) == 1, "the rating alone must be held on the network"
    assert served == [], "the comment overtook the rating: the rating's reply would erase it"

    response = held[0].fetch()  # the rating reaches the server now, after the comment if sent
    served.append(held[0].request.post_data_json)
    held[0].fulfill(response=response)
    expect(status).to_have_text("Thanks, your comment was sent.")
    assert served == [
        {"rating": "down"},
        {"rating": "down", "comment": "I asked about gift cards"},
    ], "the comment must be sent after the rating's reply, so the rating cannot erase it"
    message_id = held[0].request.url.rsplit("/", 1)[-1]
    with in_region("eu"), console.runtime.sessions() as db:
        stored = db.get(Message, message_id)
    assert stored is not None and stored.rating == "down"
    assert stored.rating_comment == "I asked about gift cards"

    reply.get_by_role("button", name="Helpful", exact=True).click()  # a change of mind
    expect(status).to_have_text("Thanks for your feedback.")
    with in_region("eu"), console.runtime.sessions() as db:
        changed = db.get(Message, message_id)
    assert changed is not None and changed.rating == "up"
    assert changed.rating_comment == "I asked about gift cards", "the new rating kept it"
    page.reload()  # the stored rating shows again
    again = page.locator("li.msg-assistant").last
    expect(again.get_by_role("button", name="Helpful", exact=True)).to_have_attribute(
        "aria-pressed", "true"
    )
    # After the reload the page sends the rating alone (no longer held); the comment stays.
    page.unroute("**/ui/chat/api/ratings/*")
    again.get_by_role("button", name="Not helpful").click()
    expect(again.get_by_role("status")).to_have_text("Thanks for your feedback.")
    with in_region("eu"), console.runtime.sessions() as db:
        reloaded = db.get(Message, message_id)
    assert reloaded is not None and reloaded.rating == "down"
    assert reloaded.rating_comment == "I asked about gift cards", "a reload lost the comment"


def test_end_user_cannot_open_other_consoles_nor_another_end_users_conversation(
    console: Console, new_context: Any
) -> None:
    alice = sign_in(new_context(), console.url, console.keys["end_user"])
    send(alice, "My order 5520194863 never came, this is Alice")
    expect(alice.locator("li.msg-assistant")).to_have_count(1)
    with in_region("eu"), console.runtime.sessions() as db:
        mine = db.scalars(select(Message).where(Message.text.contains("this is Alice"))).one()
        reply = db.scalars(
            select(Message).where(
                Message.conversation_id == mine.conversation_id, Message.role == "assistant"
            )
        ).first()
        assert db.get(Conversation, mine.conversation_id) is not None
    assert reply is not None

    # Bob signs in with the same end-user key, in another browser: a different end user.
    bob = sign_in(new_context(), console.url, console.keys["end_user"])
    for path in ("/ui/admin", "/ui/inbox", "/ui/qa", f"/ui/qa/traces/{reply.trace_id}"):
        response = bob.goto(console.url + path)
        assert response is not None and response.status == 403, path
        expect(bob.get_by_role("heading", level=1)).to_have_text(
            "This console is not for your sign-in"
        )
    bob.goto(console.url + "/ui/chat")
    expect(bob.locator("#privacy-notice")).to_contain_text("stored")
    expect(bob.locator("li.msg")).to_have_count(0)
    statuses = bob.evaluate(
        """async ([cid, mid]) => {
            const csrf = document.querySelector('meta[name="csrf-token"]').content;
            const headers = {'X-CSRF-Token': csrf, 'Content-Type': 'application/json'};
            const read = await fetch('/v1/conversations/' + cid);
            const write = await fetch('/v1/conversations/' + cid + '/messages',
                {method: 'POST', headers, body: JSON.stringify({text: 'hi'})});
            const rate = await fetch('/v1/messages/' + mid + '/rating',
                {method: 'POST', headers, body: JSON.stringify({rating: 'down'})});
            const admin = await fetch('/v1/knowledge/sources');
            return [read.status, write.status, rate.status, admin.status];
        }""",
        [mine.conversation_id, reply.id],
    )
    assert statuses == [404, 404, 404, 403]
    assert "Alice" not in bob.content()


def test_a_state_change_without_the_csrf_token_is_refused(
    console: Console, new_context: Any
) -> None:
    page = sign_in(new_context(), console.url, console.keys["end_user"])
    status = page.evaluate(
        """async () => (await fetch('/ui/chat/api/messages', {method: 'POST',
             headers: {'Content-Type': 'application/json'},
             body: JSON.stringify({text: 'hello'})})).status"""
    )
    assert status == 403
    cookies = page.context.cookies()
    session = next(c for c in cookies if c["name"] == "clearline_session")
    assert session["httpOnly"] and session["sameSite"] == "Strict"
    stored = page.evaluate("JSON.stringify([localStorage.length, sessionStorage.length])")
    assert stored == "[0,0]"


def test_markup_in_a_message_is_shown_as_text(console: Console, new_context: Any) -> None:
    page = sign_in(new_context(), console.url, console.keys["end_user"])
    send(page, XSS)
    expect(page.locator("li.msg-user .bubble").first).to_have_text(XSS)
    expect(page.locator("li.msg-assistant")).to_have_count(1)
    page.reload()
    expect(page.locator("li.msg-user .bubble").first).to_have_text(XSS)
    assert_nothing_ran(page)


def test_demo_login_links_open_each_console_once(console: Console, new_context: Any) -> None:
    homes = {"end_user": "/ui/chat", "agent": "/ui/inbox", "admin": "/ui/admin",
             "qa_lead": "/ui/qa"}  # fmt: skip
    for role, token in console.logins.items():
        page = new_context().new_page()
        page.goto(f"{console.url}/ui/login?token={token}")
        page.wait_for_url(f"**{homes[role]}")
        expect(page.locator(".who")).to_contain_text("tenant demo")
        again = new_context().new_page()
        response = again.goto(f"{console.url}/ui/login?token={token}")
        assert response is not None and response.status == 401
        expect(again.get_by_role("alert")).to_contain_text("already used")


def test_the_widget_embeds_the_chat_on_another_site(console: Console, new_context: Any) -> None:
    issued = httpx.post(
        f"{console.url}/ui/links",
        headers={"Authorization": f"Bearer {console.keys['end_user']}"},
        json={"embed": True},
    )
    assert issued.status_code == 200, issued.text
    token = issued.json()["token"]
    shop = FastAPI()
    tag = f'<script async src="{console.url}/ui/widget.js" data-token="{token}"></script>'

    @shop.get("/")
    def home() -> HTMLResponse:
        return HTMLResponse(f"<!doctype html><title>Shop</title><h1>Our shop</h1>{tag}")

    page = new_context().new_page()
    # The shop is another site: 'localhost' while Clearline is served on '127.0.0.1'.
    with ThreadedServer(shop, "127.0.0.1", free_port(), "the shop") as served:
        page.goto(served.url.replace("127.0.0.1", "localhost"))
        page.get_by_role("button", name="Chat with us").click()
        chat = page.frame_locator("#clearline-chat-frame")
        expect(chat.locator("#privacy-notice")).to_contain_text("stored")
        box = chat.get_by_label("Your message")
        box.fill("What payment methods do you accept?")
        box.press("Enter")
        expect(chat.locator("li.msg-assistant .bubble")).to_contain_text("PayPal")
        expect(page.locator("h1")).to_have_text("Our shop")
        with in_region("eu"), console.runtime.sessions() as db:
            widget = db.scalars(select(Conversation).where(Conversation.channel == "widget")).all()
        assert len(widget) == 1
