"""Who a document is written for (knowledge.audience): an agent's guideline names the
customer in the third person again and again; a help page speaks to its reader."""

from __future__ import annotations

import pytest

from knowledge.audience import (
    AGENT,
    CUSTOMER,
    audience_of,
    names_the_customer,
    stated_audience,
    words_of,
)

GUIDELINE = [
    "Ask the customer for their full name or account ID.",
    "Verify the identity of the customer.",
    "Issue the refund.",
    "Tell the customer that the refund takes five days.",
    "If the customer's order has shipped, it cannot be changed.",
    "Explain the return policy to the customer.",
    "End the conversation.",
]
HELP_PAGE = [
    "You can return an item within 30 days of delivery.",
    "Start a return in the returns portal.",
    "We refund a return within 5 working days.",
    "The customer portal shows the status of every order.",
    "Contact customer service if your parcel is late.",
]


def test_a_guideline_that_keeps_naming_the_customer_is_written_for_the_agent() -> None:
    assert audience_of(GUIDELINE) == AGENT


def test_a_help_page_is_written_for_the_customer() -> None:
    assert audience_of(HELP_PAGE) == CUSTOMER


def test_a_few_mentions_in_a_long_page_do_not_make_it_an_agents_guideline() -> None:
    """Five mentions are not enough when they are under 5% of the sentences (a long page
    for business owners that mentions their customers now and then)."""
    mentions = [
        "Send the customer an invoice.",
        "The customer must pay within 30 days.",
        "Give the customer a receipt.",
        "Tell the customer about late fees.",
        "Agree a payment date with the customer.",
    ]
    page = mentions + [f"You must keep record number {n} for six years." for n in range(120)]
    assert audience_of(page) == CUSTOMER
    assert audience_of(mentions + HELP_PAGE) == AGENT


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("Verify the identity of the customer.", True),
        ("Ask for the customer's order number.", True),
        ("Log in to the customer portal.", False),
        ("Customer service is open from 9 to 5.", False),
        ("Tell us your order number.", False),
    ],
)
def test_the_customer_as_a_person_not_as_part_of_a_compound(text: str, named: bool) -> None:
    assert names_the_customer(words_of(text)) is named


def test_a_stated_audience_is_taken_only_when_it_is_one_of_the_two() -> None:
    assert stated_audience({"audience": "agent"}) == AGENT
    assert stated_audience({"audience": "customer"}) == CUSTOMER
    assert stated_audience({"audience": "staff"}) is None
    assert stated_audience({}) is None
