"""The human agent's inbox in a real browser: the demo's refund procedure stops at its
approval; the draft appears in the inbox without a reload, shows the action approving will
run, and approving it runs the refund once and sends the customer the result."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.ui.serve import XSS, Console, assert_nothing_ran, send, sign_in

pytestmark = pytest.mark.browser


def _reply(page: Any, count: int) -> Any:
    replies = page.locator("li.msg-assistant")
    expect(replies).to_have_count(count)
    return replies.nth(count - 1).locator(".bubble")


def test_a_refund_waits_for_approval_in_the_inbox_and_runs_once(
    console: Console, new_context: Any
) -> None:
    agent = sign_in(new_context(), console.url, console.keys["agent"])
    expect(agent.locator("#drafts-title")).to_contain_text("Waiting for approval")
    customer = sign_in(new_context(), console.url, console.keys["end_user"])

    send(customer, "I want to return an item and get my money back")
    expect(_reply(customer, 1)).to_contain_text("order number")
    send(customer, "3348917502")
    expect(_reply(customer, 2)).to_contain_text("email")
    send(customer, "cminh730@email.com")
    expect(_reply(customer, 3)).to_contain_text("credit card")
    send(customer, "credit card")
    holding = customer.locator("li.msg-assistant").nth(3)
    expect(holding).to_have_attribute("data-decision", "draft")
    expect(holding).to_contain_text("checks this reply before the answer is sent")

    draft = agent.locator("#draft-list button").first  # appears without a reload
    expect(draft.locator(".badge")).to_have_text("new")
    draft.click()
    effect = agent.locator("#effect")
    expect(effect).to_contain_text("What approving does:")
    expect(effect).to_contain_text("issue_refund")
    expect(effect).to_contain_text("refund $94 for order 3348917502")
    expect(effect.locator("pre")).to_contain_text("/refunds")
    expect(effect.locator("pre")).to_contain_text('"order_id": "3348917502"')
    agent.get_by_role("button", name="Approve", exact=True).click()
    expect(agent.get_by_role("status").filter(has_text="Approved")).to_contain_text("Done: refund")
    expect(agent.locator("#draft-list button")).to_have_count(0)

    expect(_reply(customer, 5)).to_contain_text("Done: refund")  # appears without a reload
    refunds = console.actions_app.state.store.refunds
    assert len(refunds) == 1, refunds


def test_a_handoff_shows_its_summary_and_the_agent_replies(
    console: Console, new_context: Any
) -> None:
    agent = sign_in(new_context(), console.url, console.keys["agent"])
    customer = sign_in(new_context(), console.url, console.keys["end_user"])
    send(customer, f"My parcel is lost {XSS}")
    customer.get_by_role("button", name="Talk to a human").click()
    expect(customer.locator("li.msg-assistant[data-decision=handoff]")).not_to_have_count(0)

    item = agent.locator("#handoff-list button").filter(has_text="parcel")
    item.click()
    expect(agent.locator(".history")).to_contain_text(f"My parcel is lost {XSS}")
    agent.get_by_label("Your reply to the customer").fill("Hello, I am looking into it now.")
    agent.get_by_role("button", name="Send reply").click()
    expect(agent.get_by_role("status").filter(has_text="Reply sent")).to_be_visible()

    human = customer.locator("li.msg-human_agent")
    expect(human.locator(".bubble")).to_have_text("Hello, I am looking into it now.")
    expect(human.locator(".who-line")).to_contain_text("a person")
    assert_nothing_ran(agent)
    assert_nothing_ran(customer)
