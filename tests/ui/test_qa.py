"""The QA console in a real browser: a reply the customer rated down is in the review
queue (found with the filters), its trace reads as a timeline of steps with the deciding
rule and the passages beside the answer (those the answerability model read marked with its
P), and a correction submitted from the review form appears in the golden set; the form
chooses no verdict for the lead. Markup in a question stays text on the trace page. A reply
the customer said did not help is found by that reason."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from control.models import Message
from control.regional import in_region
from tests.ui.serve import XSS, Console, assert_nothing_ran, send, sign_in

pytestmark = pytest.mark.browser
CORRECTED = "We accept credit cards, debit cards, PayPal and Northwind gift cards."


def test_a_reply_the_customer_says_did_not_help_is_found_by_its_reason(
    console: Console, new_context: Any
) -> None:
    """Session 47: "That's not what I asked" queues the reply it was said about; session 48:
    the row shows what the customer said."""
    customer = sign_in(new_context(), console.url, console.keys["end_user"])
    send(customer, "How long does shipping take?")
    expect(customer.locator("li.msg-assistant").last.locator(".bubble")).to_contain_text("days")
    send(customer, "That's not what I asked")
    expect(customer.locator("li.msg-assistant").last.locator(".bubble")).to_contain_text(
        "I'm sorry that didn't help."
    )
    qa = sign_in(new_context(), console.url, console.keys["qa_lead"])
    qa.get_by_label("Reason").select_option("did not help")
    rows = qa.locator("#queue tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("How long does shipping take?")
    expect(rows.first).to_contain_text("the end user said it did not help: That's not what I asked")


def test_qa_lead_reviews_a_queued_trace_and_the_correction_joins_the_golden_set(
    console: Console, new_context: Any
) -> None:
    customer = sign_in(new_context(), console.url, console.keys["end_user"])
    send(customer, "What payment methods do you accept?")
    reply = customer.locator("li.msg-assistant").last
    expect(reply.locator(".bubble")).to_contain_text("PayPal")
    reply.get_by_role("button", name="Not helpful").click()
    expect(reply.get_by_role("status")).to_have_text("Thanks for your feedback.")

    allowed = httpx.put(  # corrections join the golden set only with training use allowed
        f"{console.url}/v1/customer-control",
        headers={"Authorization": f"Bearer {console.keys['admin']}"},
        json={"training_use": "allowed"},
    )
    assert allowed.status_code == 200, allowed.text

    qa = sign_in(new_context(), console.url, console.keys["qa_lead"])
    assert qa.url.endswith("/ui/qa")
    qa.get_by_label("Reason").select_option("rated down")
    rows = qa.locator("#queue tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("What payment methods do you accept?")
    intent = rows.first.locator(".intent").inner_text()
    qa.get_by_label("Intent").select_option(intent)
    expect(rows).to_have_count(1)
    qa.get_by_label("Score").select_option("confidence")
    qa.get_by_label("From").fill("0.99")
    qa.get_by_role("button", name="Filter").click()
    expect(rows).to_have_count(0)
    qa.get_by_role("button", name="Clear").click()
    qa.get_by_label("Reason").select_option("rated down")
    expect(rows).to_have_count(1)

    rows.first.get_by_role("link", name="Open the trace of").click()
    qa.wait_for_url("**/ui/qa/traces/*")
    steps = qa.locator("#timeline > li")
    names = [steps.nth(i).get_attribute("data-step") for i in range(steps.count())]
    assert names == ["understand", "route", "retrieve", "compose", "verify", "decide"]
    expect(qa.locator("#rule")).to_contain_text("Rule that decided:")
    expect(qa.locator("#decision")).to_have_text("answered")
    expect(steps.nth(2)).to_contain_text("ms")
    steps.nth(2).get_by_text("Outputs").click()
    expect(steps.nth(2).locator("pre").last).to_contain_text("chunk_id")
    marked = qa.locator(".passage.cited mark")
    expect(marked.first).to_contain_text("PayPal")
    read = qa.locator(".passage .badge.read")  # the answerability model's two passages
    expect(read).to_have_count(2)
    expect(read.first).to_contain_text(re.compile(r"read by the answerability model · P \d\.\d\d"))
    expect(qa.locator("#model-read .ref")).to_have_count(2)

    # no verdict is chosen for the lead (it was "incorrect", sent by a click on Submit)
    expect(qa.locator("input[name=verdict]:checked")).to_have_count(0)
    qa.get_by_role("button", name="Submit review").click()
    expect(qa.get_by_role("alert")).to_have_text("Not saved: choose a verdict first.")
    reviews = httpx.get(f"{console.url}/v1/qa/reviews", timeout=30,
                        headers={"Authorization": f"Bearer {console.keys['qa_lead']}"})  # fmt: skip
    trace_id = qa.url.rsplit("/", 1)[-1]
    assert reviews.status_code == 200, reviews.text
    assert all(r["trace_id"] != trace_id for r in reviews.json()), reviews.text

    qa.get_by_label("incorrect", exact=True).check()
    qa.get_by_label("missing knowledge").check()
    qa.get_by_label("Corrected answer (optional; it becomes a golden-set case)").fill(CORRECTED)
    qa.get_by_role("button", name="Submit review").click()
    expect(qa.get_by_role("status").filter(has_text="Review saved")).to_contain_text("golden set")

    qa.goto(console.url + "/ui/qa#golden")
    case = qa.locator("#golden tbody tr").filter(has_text=CORRECTED)
    expect(case).to_have_count(1)
    expect(case.locator(".badge")).to_have_text("correction")
    expect(case).to_contain_text("What payment methods do you accept?")


def test_markup_in_a_question_is_text_on_the_trace_page(console: Console, new_context: Any) -> None:
    customer = sign_in(new_context(), console.url, console.keys["end_user"])
    send(customer, f"Do you sell {XSS} boots?")
    expect(customer.locator("li.msg-assistant")).to_have_count(1)
    with in_region("eu"), console.runtime.sessions() as db:
        asked = db.scalars(select(Message).where(Message.text.contains("onerror"))).one()
        reply = db.scalars(
            select(Message).where(
                Message.conversation_id == asked.conversation_id, Message.role == "assistant"
            )
        ).one()

    qa = sign_in(new_context(), console.url, console.keys["qa_lead"])
    qa.goto(f"{console.url}/ui/qa/traces/{reply.trace_id}")
    expect(qa.locator("#question")).to_have_text(f"Do you sell {XSS} boots?")
    steps = qa.locator("#timeline > li")
    steps.first.get_by_text("Inputs").click()
    expect(steps.first.locator("pre").first).to_contain_text(XSS.replace('"', '\\"'))
    assert_nothing_ran(qa)
    assert_nothing_ran(customer)
