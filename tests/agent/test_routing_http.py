"""Issue 13's demo cases through the HTTP API of `clearline demo` (what `make run` runs): a
general shipping question is answered from knowledge, and a question asked while the
order-status procedure waits for an order number is not taken as the order number."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from tests.service.test_demo import demo, say

__all__ = ["demo"]  # the module-scoped fixture that starts the demo server


def trace(url: str, keys: dict[str, str], reply: dict[str, Any]) -> dict[str, Any]:
    response = httpx.get(
        f"{url}/v1/traces/{reply['trace_id']}",
        headers={"Authorization": f"Bearer {keys['qa-lead']}"},
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def start(url: str, keys: dict[str, str]) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {keys['end-user']}"}
    conversation: dict[str, Any] = httpx.post(
        f"{url}/v1/conversations", headers=headers, json={}
    ).json()
    return conversation


@pytest.mark.slow
@pytest.mark.parametrize(
    "question",
    [
        "How long does shipping take?",
        # langdetect alone reads this one as Afrikaans at 0.99, and a message in another
        # language started the order-status procedure on its intent alone
        "How long does delivery take?",
    ],
)
def test_how_long_shipping_takes_is_answered_from_knowledge(demo: Any, question: str) -> None:
    url, keys = demo
    reply = say(url, keys["end-user"], start(url, keys), question)
    assert "order number" not in reply["text"], reply
    steps = trace(url, keys, reply)["steps"]
    language = steps[0]["outputs"]["language"]
    assert language["label"] == "en" or language["confidence"] < 0.8, language
    route = steps[1]
    assert route["outputs"]["routed"] == "knowledge", route
    assert route["outputs"]["rule"] == "knowledge", route


@pytest.mark.slow
def test_a_question_while_the_order_number_is_asked_is_not_an_order_number(demo: Any) -> None:
    url, keys = demo
    user, conversation = keys["end-user"], start(url, keys)
    assert "order number" in say(url, user, conversation, "Where is my order?")["text"]
    reply = say(url, user, conversation, "Who is your CEO?")
    assert "couldn't find an order number" not in reply["text"], reply
    route = trace(url, keys, reply)["steps"][1]["outputs"]
    assert route["routed"] == "knowledge" and route["rule"] == "question", route
    assert route["interrupted"] == "order-status", route
    if reply["decision"] == "handoff":  # closed, and the end user is told so
        assert reply["text"].startswith('I\'ve stopped "Check the status of an order".'), reply
    else:  # answered (or asked back), then the order number is asked for again
        assert 'Back to "Check the status of an order"' in reply["text"], reply
        assert "order number" in reply["text"]
    if reply["decision"] == "clarify":  # no passage of the demo mentions a CEO: none is named
        assert "Do you mean" not in reply["text"], reply


@pytest.mark.slow
def test_who_is_your_ceo_after_shipping_is_not_answered_with_shipping(demo: Any) -> None:
    """ "Who is your CEO?" right after "How long does shipping take?" names one subject
    word, which the knowledge and the conversation lack; it is searched on its own, not
    with the shipping turn. Before, the search followed the shipping turn and the reply was
    the shipping sentence at confidence 0.94."""
    url, keys = demo
    user, conversation = keys["end-user"], start(url, keys)
    assert "working days" in say(url, user, conversation, "How long does shipping take?")["text"]
    reply = say(url, user, conversation, "Who is your CEO?")
    assert reply["decision"] != "answered", reply
    assert "shipping" not in reply["text"].lower(), reply
    if reply["decision"] == "clarify":  # no passage names a CEO, and the reply says so
        assert reply["text"].startswith("I couldn't find anything about that"), reply
    retrieve = next(s for s in trace(url, keys, reply)["steps"] if s["name"] == "retrieve")
    assert retrieve["inputs"]["history"] == "set aside: names what nothing here holds (ceo)"


@pytest.mark.slow
def test_a_procedures_question_is_not_an_earlier_clarifying_question(demo: Any) -> None:
    """The agent asks back at most once in a row, but the procedure asking for its value is
    not the agent asking back: a question in the clarify band asked while the return waits
    for an order number is asked back (then the order number is asked for again), not
    handed off, and the order number that follows fills the slot. Before, the procedure's
    question counted as a clarifying question, so the question was handed off and the
    return closed (conv-05 of the routed set)."""
    url, keys = demo
    user, conversation = keys["end-user"], start(url, keys)
    assert "order number" in say(url, user, conversation, "I want to return my boots")["text"]
    reply = say(url, user, conversation, "What is the return window for bronze members?")
    steps = trace(url, keys, reply)["steps"]
    route = steps[1]["outputs"]
    assert route["rule"] == "question" and route["interrupted"] == "return-refund", route
    decide = next(s for s in steps if s["name"] == "decide")
    p = next(s for s in steps if s["name"] == "retrieve")["scores"]["answerability"]
    if p < 0.30:  # the clarify threshold's default: too unsure to ask back, handed off
        pytest.fail(f"the question's P {p} fell below the clarify band; pick another question")
    assert reply["decision"] in ("answered", "clarify"), (p, decide, reply)
    assert 'Back to "' in reply["text"] and "order number" in reply["text"], reply
    after = say(url, user, conversation, "2846739105")
    route = trace(url, keys, after)["steps"][1]["outputs"]
    assert route["routed"] == "slot", (route, after)


@pytest.mark.slow
def test_a_question_while_a_procedure_waits_is_searched_on_its_own(demo: Any) -> None:
    """A message the router takes as a new question, not the waiting slot's value, changes
    the subject: it is searched without the procedure's dialogue. Before, "What's your phone
    number?" asked while the address change waited for an order number was searched with
    "change my delivery address", and a guideline about changing a customer's phone number
    was quoted with confidence 0.90 instead of the store's support number."""
    url, keys = demo
    user, conversation = keys["end-user"], start(url, keys)
    asked = say(url, user, conversation, "How do I change my delivery address?")
    assert "order number" in asked["text"], asked
    reply = say(url, user, conversation, "What's your phone number?")
    steps = trace(url, keys, reply)["steps"]
    route = steps[1]["outputs"]
    assert route["rule"] == "question", route
    assert route["interrupted"] == "change-shipping-address", route
    retrieve = next(s for s in steps if s["name"] == "retrieve")
    assert "delivery address" not in retrieve["inputs"]["context"], retrieve["inputs"]
    assert reply["decision"] == "answered", reply
    assert "555 0100" in reply["text"], reply
    assert {c["document_id"] for c in reply["citations"]} == {"store-contact-and-hours.txt"}
    assert 'Back to "Change the delivery address of an order"' in reply["text"], reply


@pytest.mark.slow
@pytest.mark.parametrize("question", ["How?", "What is it?", "Where?"])
def test_a_question_with_nothing_to_search_for_stays_with_the_waiting_procedure(
    demo: Any, question: str
) -> None:
    """Found in session 47: "How?" after "I can help with that. What is the 10-digit order
    number of the item?" was searched on its own, as an interrupting question is, found
    nothing fit to quote, and stopped the return and handed off. A question with no word to
    search for is the procedure's to judge: its hint says where the number is, the question
    comes again, and the return goes on."""
    url, keys = demo
    user, conversation = keys["end-user"], start(url, keys)
    asked = say(url, user, conversation, "Can I exchange my jeans for a different size?")
    assert "order number" in asked["text"], asked
    reply = say(url, user, conversation, question)
    assert reply["decision"] == "clarify", reply
    assert reply["text"].endswith("What is the 10-digit order number of the item?"), reply
    assert trace(url, keys, reply)["steps"][1]["outputs"]["routed"] == "slot"
    assert "email" in say(url, user, conversation, "3348917502")["text"]


@pytest.mark.slow
def test_asking_to_act_on_the_case_a_procedure_just_answered_starts_with_its_values(
    demo: Any,
) -> None:
    """Found in session 47: "Can I return it?" right after the order lookup told the end user
    their jeans were delivered was taken as a general question (no own-case words), searched
    with the lookup's turns, and asked back ("Could you tell me a little more ..."). It
    points back at the order just looked up, and its intent has a procedure: that procedure
    starts, with the order number and email the end user gave the lookup."""
    url, keys = demo
    user, conversation = keys["end-user"], start(url, keys)
    say(url, user, conversation, "What's the status of order 3348917502?")
    assert "delivered" in say(url, user, conversation, "cminh730@email.com")["text"]
    reply = say(url, user, conversation, "Can I return it?")
    assert "can be returned" in reply["text"] and "refunded" in reply["text"], reply
    steps = {s["name"]: s for s in trace(url, keys, reply)["steps"]}
    route = steps["route"]["outputs"]
    assert (route["routed"], route["rule"]) == ("procedure:return-refund", "case"), route
    started = steps["retrieve"]["outputs"]["events"][0]
    assert "order_id, email from procedure 'order-status'" in started["rule"], started
    # without such a procedure before, the same words are a general question, as before
    general = say(url, user, start(url, keys), "Can I return it?")
    assert "refunded" not in general["text"], general
    # a procedure about another case (the account, not the order) asks for its own values
    conversation = start(url, keys)
    say(url, user, conversation, "What's the status of order 3348917502?")
    say(url, user, conversation, "cminh730@email.com")
    account = say(url, user, conversation, "Is my subscription active?")
    assert account["text"] == "What is the email address on your account?", account


@pytest.mark.slow
def test_a_new_subject_in_a_conversation_is_searched_on_its_own(demo: Any) -> None:
    """A question that names its own subject is searched without the earlier turns, and a
    follow-up that points back keeps them (agent/understand/subject.py). Before, after three
    questions about hours, shipping and payment, "What's your phone number?" was answered
    with the payment-methods sentence at confidence 0.84."""
    url, keys = demo
    user, conversation = keys["end-user"], start(url, keys)
    for question in (
        "What are your opening hours?",
        "How much is shipping?",
        "What payment methods do you accept?",
    ):
        say(url, user, conversation, question)
    reply = say(url, user, conversation, "What's your phone number?")
    assert reply["decision"] == "answered", reply
    assert "555 0100" in reply["text"], reply
    assert {c["document_id"] for c in reply["citations"]} == {"store-contact-and-hours.txt"}
    retrieve = next(s for s in trace(url, keys, reply)["steps"] if s["name"] == "retrieve")
    assert retrieve["inputs"]["history"] == "set aside: names its own subject (phone, number)"
    assert retrieve["inputs"]["context"] == "", retrieve["inputs"]

    follow_up = say(url, user, conversation, "Is it free on weekends too?")
    retrieve = next(s for s in trace(url, keys, follow_up)["steps"] if s["name"] == "retrieve")
    assert retrieve["inputs"]["history"] == "kept: refers back ('it')", retrieve["inputs"]
    assert "phone number" in retrieve["inputs"]["context"], retrieve["inputs"]


@pytest.mark.slow
def test_a_general_question_with_my_is_answered_without_the_agents_lines(demo: Any) -> None:
    """Found in the demo (session 26): "Do you ask for my password by email?" started the
    password reset ("my" read as the user's own case); answered from knowledge, it then
    quoted guideline lines meant for the agent ("Help the customer get a new password",
    "Share the password with the customer.") before the store's policy."""
    url, keys = demo
    reply = say(url, keys["end-user"], start(url, keys), "Do you ask for my password by email?")
    route = trace(url, keys, reply)["steps"][1]["outputs"]
    assert route["routed"] == "knowledge", route
    assert reply["decision"] == "answered", reply
    assert "We never ask for your full card number or your password" in reply["text"], reply
    assert "the customer" not in reply["text"], reply


@pytest.mark.slow
@pytest.mark.parametrize(
    ("question", "expected", "agent_step"),
    [
        ("What is your refund policy?", "We refund a return within 5 working days", "Issue the"),
        ("How do I use a promo code?", "Promo code box at checkout", "Issue a promo code"),
        ("What phone number can I call for support?", "555 0100", "they must"),
        ("Do you ship internationally?", "United States and Canada", "phrased as"),
    ],
)
def test_an_agents_guideline_is_quoted_for_facts_not_steps(
    demo: Any, question: str, expected: str, agent_step: str
) -> None:
    """Found in the demo (session 27): with the sample's agent guidelines beside its help
    centre, "What is your refund policy?" opened with the guideline's step "Issue the refund."
    and the promo-code question with "Issue a promo code. Generate the promo code and share
    that with them". Ingestion now marks the guidelines as written for the agent
    (knowledge.audience), and their steps and lines about the customer are not quoted."""
    url, keys = demo
    reply = say(url, keys["end-user"], start(url, keys), question)
    assert reply["decision"] == "answered", reply
    assert expected in reply["text"], reply
    assert agent_step not in reply["text"], reply


@pytest.mark.slow
@pytest.mark.parametrize("question", ["What is your return policy?", "What's the return policy?"])
def test_the_return_policy_is_not_answered_with_a_description_of_a_guideline(
    demo: Any, question: str
) -> None:
    """Found in the demo (session 28): the return-policy question was answered with a
    guideline's opening, "Product Defect: Policy and Agent Procedures This document sets out
    the Northwind Outfitters customer policy and the agent procedure...", at 0.84; with that
    sentence left out, with "It has one section per request type: ..."; with that left out
    too, with "Check membership privileges. The “End the conversation” step after
    communicating the above. Guest members:"; with those left out, it handed off, as the
    help centre's passages were ranked sixth and eighth behind a guideline section repeated
    three times, past the five passages the reader reads. Repeated passages are now read
    once, and the reply comes from the help centre."""
    url, keys = demo
    reply = say(url, keys["end-user"], start(url, keys), question)
    for line in ("This document", "one section per", "Check membership", "step", "members:"):
        assert line not in reply["text"], reply
    assert reply["decision"] == "answered", reply
    assert {c["document_id"] for c in reply["citations"]} == {"help-centre.md"}, reply


@pytest.mark.slow
@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Can I cancel my order?", "To cancel an order that has not shipped"),
        ("Can I change my order after placing it?", "the items or the payment method"),
    ],
)
def test_a_request_no_procedure_handles_is_answered_not_routed_to_the_nearest_one(
    demo: Any, question: str, expected: str
) -> None:
    """Found in the demo (session 30): "Can I cancel my order?" started the return-and-refund
    procedure and "Can I change my order after placing it?" the change-of-address one, the
    nearest of the five. The demo tenant now has an intent without a procedure for them
    (examples/intents.yaml), and the help centre answers."""
    url, keys = demo
    reply = say(url, keys["end-user"], start(url, keys), question)
    route = trace(url, keys, reply)["steps"][1]["outputs"]
    assert route["routed"] == "knowledge", route
    assert reply["decision"] == "answered", reply
    assert expected in reply["text"], reply


@pytest.mark.slow
@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("How much is shipping?", "Standard shipping is $8.00 per order."),
        ("Do I have to pay for return shipping?", "Return shipping is free."),
    ],
)
def test_the_answerability_model_reads_the_help_centre_before_agent_guidelines(
    demo: Any, question: str, expected: str
) -> None:
    """Found in the demo (session 31): for "How much is shipping?" three passages of the
    agent guidelines outranked the help centre's shipping costs, the answerability model read
    the top two, and the agent asked back ("Do you mean "Shipping costs", ...?") although the
    reply had found the help centre's sentence. A guideline is quoted for its facts only, so
    the model now reads the passages written for customers first; the trace lists them."""
    url, keys = demo
    reply = say(url, keys["end-user"], start(url, keys), question)
    assert reply["decision"] == "answered", reply
    assert reply["text"].startswith(expected), reply
    retrieve = trace(url, keys, reply)["steps"][2]
    assert retrieve["name"] == "retrieve", retrieve
    chunks = retrieve["outputs"]["chunks"]
    document = {c["chunk_id"]: c["document_id"] for c in chunks}
    read = retrieve["outputs"]["answerability_read"]
    assert document[read[0]] == "help-centre.md", retrieve  # the first passage it read
    assert document[chunks[0]["chunk_id"]] != "help-centre.md", retrieve  # not retrieval's


@pytest.mark.slow
@pytest.mark.parametrize(
    "message",
    ["I'd like to cancel my premium subscription", "Can you stop my subscription please?"],
)
def test_a_request_to_cancel_does_not_start_a_procedure_that_cannot_cancel(
    demo: Any, message: str
) -> None:
    """Found in the demo (session 35, routed set single-50 and single-51): a request to cancel
    the premium subscription started "Check and pay the premium subscription", which asked for
    the email address and could only report the status or take a payment. A procedure starts
    on a request to end something only when its title or examples ask for that too; the help
    centre says how to cancel. "Stop", which the help centre does not say, is answered with
    how to cancel or asked back naming the subscription: which of the two is the
    answerability model's call (P 0.79 against the threshold 0.78 with the model of session
    43; asked back with the one before), not routing's."""
    url, keys = demo
    reply = say(url, keys["end-user"], start(url, keys), message)
    route = trace(url, keys, reply)["steps"][1]["outputs"]
    assert route["routed"] == "knowledge", route
    assert route["request"]["ending"], route
    assert "email address" not in reply["text"], reply
    if "cancel" in message:
        assert reply["decision"] == "answered", reply
        assert "cancel it at any time under Subscription" in reply["text"], reply
    elif reply["decision"] == "answered":
        assert "cancel it at any time under Subscription" in reply["text"], reply
    else:
        assert reply["decision"] == "clarify", reply
        assert '"Premium subscription"' in reply["text"], reply


@pytest.mark.slow
def test_a_question_about_when_a_refund_arrives_does_not_start_a_return(demo: Any) -> None:
    """Found in the demo (session 36): "When will my refund arrive?" started "Return an item
    for a refund", which asked for an order number to start a new return. A question about
    when something will happen starts a procedure only when the procedure's title or examples
    ask one too (the order lookup's "when will my order arrive?"); the help centre says when
    a refund is paid."""
    url, keys = demo
    reply = say(url, keys["end-user"], start(url, keys), "When will my refund arrive?")
    route = trace(url, keys, reply)["steps"][1]["outputs"]
    assert route["routed"] == "knowledge" and route["request"]["timing"] == "when will", route
    assert reply["decision"] == "answered", reply
    assert "within 5 working days of receiving the item" in reply["text"], reply
    tracked = say(url, keys["end-user"], start(url, keys), "When will my jeans arrive?")
    assert "order number" in tracked["text"], tracked  # the order lookup asks one
    route = trace(url, keys, tracked)["steps"][1]["outputs"]
    assert route["routed"] == "procedure:order-status", route


@pytest.mark.slow
def test_a_request_no_procedure_takes_while_one_waits_is_answered_then_asked_again(
    demo: Any,
) -> None:
    """Found in the demo (session 36): "Actually I want to cancel my premium subscription"
    while the order lookup waited for an order number got "I couldn't find an order number
    in that". A request no procedure takes (it asks to cancel; none of the demo's procedures
    does) is answered from the knowledge as a question would be, and the order number is
    asked for again."""
    url, keys = demo
    user, conversation = keys["end-user"], start(url, keys)
    assert "order number" in say(url, user, conversation, "Where is my order?")["text"]
    reply = say(url, user, conversation, "Actually I want to cancel my premium subscription")
    route = trace(url, keys, reply)["steps"][1]["outputs"]
    assert route["rule"] == "question" and route["interrupted"] == "order-status", route
    assert "couldn't find an order number" not in reply["text"], reply
    assert "cancel it at any time under Subscription" in reply["text"], reply
    assert 'Back to "Check the status of an order"' in reply["text"], reply


@pytest.mark.slow
def test_saying_who_you_are_does_not_make_a_question_a_request(demo: Any) -> None:
    """Found in the demo (session 37): "I'm a Gold member, how long do I have to return
    something?" started "Return an item for a refund", which asked for an order number: "I'm"
    read as a statement about the user's own case. A statement of who the user is ("I'm a",
    "I am an") is not one; the help centre's return periods answer the question."""
    url, keys = demo
    question = "I'm a Gold member, how long do I have to return something?"
    reply = say(url, keys["end-user"], start(url, keys), question)
    route = trace(url, keys, reply)["steps"][1]["outputs"]
    assert route["routed"] == "knowledge" and not route["request"]["own_case"], route
    assert reply["decision"] == "answered", reply
    assert "Gold members: any time." in reply["text"], reply


@pytest.mark.slow
def test_a_question_after_a_stop_closes_the_procedure_and_is_answered(demo: Any) -> None:
    """Found in the demo (session 44): "Forget it. How long does shipping take?" while the
    order lookup waited got only 'I've stopped "Check the status of an order". Is there
    anything else I can help you with?': the question was dropped. The procedure closes with
    its line, the question is answered, and the order number is not asked for again."""
    url, keys = demo
    user, conversation = keys["end-user"], start(url, keys)
    assert "order number" in say(url, user, conversation, "Where is my order?")["text"]
    reply = say(url, user, conversation, "Forget it. How long does shipping take?")
    assert reply["text"].startswith('I\'ve stopped "Check the status of an order".'), reply
    assert "3 to 5 working days" in reply["text"], reply
    assert "Back to" not in reply["text"] and "anything else" not in reply["text"], reply
    assert {c["document_id"] for c in reply["citations"]} == {"help-centre.md"}, reply
    route = trace(url, keys, reply)["steps"][1]["outputs"]
    assert route["routed"] == "knowledge" and route["rule"] == "stop_question", route
    assert route["interrupted"] == "order-status", route
    after = say(url, user, conversation, "3348917502")  # no longer taken as the order number
    assert "email" not in after["text"], after
    # a request no procedure takes, after a stop, is answered as it is without one
    conversation = start(url, keys)
    assert "order number" in say(url, user, conversation, "Where is my order?")["text"]
    reply = say(url, user, conversation, "Never mind, I want to cancel my premium subscription")
    assert reply["text"].startswith('I\'ve stopped "Check the status of an order".'), reply
    assert "cancel it at any time under Subscription" in reply["text"], reply


@pytest.mark.slow
def test_never_mind_after_an_opening_word_closes_the_procedure(demo: Any) -> None:
    """Found in the demo (session 44): "Oh never mind" while the order lookup waited got "I
    couldn't find an order number in that": a stop phrase counted only first in the
    message."""
    url, keys = demo
    user, conversation = keys["end-user"], start(url, keys)
    assert "order number" in say(url, user, conversation, "Where is my order?")["text"]
    reply = say(url, user, conversation, "Oh never mind")
    assert reply["text"].startswith('I\'ve stopped "Check the status of an order".'), reply
    assert "order number" not in reply["text"], reply


@pytest.mark.slow
def test_an_order_number_after_an_answer_is_not_answered_from_that_answers_question(
    demo: Any,
) -> None:
    """Found in the demo (session 44): "3348917502" after "What's your returns policy?", with
    no procedure waiting, was searched with the returns question and answered with the
    contact channels and a return sentence, at confidence 0.93. A message of values alone
    asks nothing to follow up: it is searched on its own, and nothing answers a number."""
    url, keys = demo
    user, conversation = keys["end-user"], start(url, keys)
    say(url, user, conversation, "What's your returns policy?")
    reply = say(url, user, conversation, "3348917502")
    assert reply["decision"] != "answered" and not reply["citations"], reply
    retrieve = next(s for s in trace(url, keys, reply)["steps"] if s["name"] == "retrieve")
    assert retrieve["inputs"]["history"].startswith("set aside: holds only a value"), retrieve


@pytest.mark.slow
def test_a_goodbye_after_a_stop_says_goodbye(demo: Any) -> None:
    """Found in the demo (session 44): "Forget it, bye" while the order lookup waited got "Is
    there anything else I can help you with?", as "Forget it" alone does; a goodbye gets the
    goodbye, as "bye" alone does while a procedure waits. Found in session 45: the next
    question was still searched with the closed lookup's turns ("How long does it take?"
    quoted the missing-package lines); a conversation starts again after this goodbye too."""
    url, keys = demo
    user, conversation = keys["end-user"], start(url, keys)
    assert "order number" in say(url, user, conversation, "Where is my order?")["text"]
    reply = say(url, user, conversation, "Forget it, bye")
    assert reply["text"] == (
        'I\'ve stopped "Check the status of an order". Thank you for contacting us. Goodbye!'
    ), reply
    later = say(url, user, conversation, "How long does it take?")
    retrieve = trace(url, keys, later)["steps"][2]
    assert retrieve["name"] == "retrieve", retrieve
    assert retrieve["inputs"]["context"] == "", retrieve["inputs"]
    assert "missing" not in later["text"], later


@pytest.mark.slow
def test_a_question_answered_while_a_procedure_waits_is_scored_without_the_procedures_line(
    demo: Any,
) -> None:
    """Found in the QA console (session 44): every question answered while a procedure
    waited was queued as "groundedness 0.30 < 0.5": the QA loop judged the whole reply, and
    the line that asks the procedure's question again ('Back to "Return an item for a
    refund": ... How would you like the $94 refunded ...?') is no quote, and its amount is in
    no passage. The answer's own sentences are what is judged."""
    url, keys = demo
    user, conversation = keys["end-user"], start(url, keys)
    say(url, user, conversation, "I want a refund for order 3348917502")
    assert "refunded" in say(url, user, conversation, "cminh730@email.com")["text"]
    reply = say(url, user, conversation, "When will I get my refund?")
    assert reply["decision"] == "answered" and 'Back to "Return' in reply["text"], reply
    deadline, scores = time.monotonic() + 120, dict[str, Any]()
    while not scores and time.monotonic() < deadline:
        time.sleep(0.5)
        scores = trace(url, keys, reply)["scores"]
    grounded = scores["groundedness"]
    assert grounded["value"] >= 0.5 and not grounded["detail"]["conflicts"], grounded
    assert len(grounded["detail"]["sentence_support"]) == len(reply["citations"]), grounded


@pytest.mark.slow
def test_an_unsure_request_for_another_procedure_does_not_end_a_return(demo: Any) -> None:
    """Found in the demo (session 45): "When will I get my money?" while the return waited for
    the refund method closed the return and started the order lookup (intent order_status at
    0.65), so the order number, email and item given so far were lost. Leaving a waiting
    procedure for another asks the intent to be sure at `thresholds.switch` (0.80); below
    it the message is taken as a question (answered from the knowledge, or asked back), and
    the return asks again."""
    url, keys = demo
    user, conversation = keys["end-user"], start(url, keys)
    say(url, user, conversation, "I want to return an item")
    say(url, user, conversation, "3348917502")
    waiting = say(url, user, conversation, "cminh730@email.com")
    assert "How would you like the $94 refunded" in waiting["text"], waiting
    reply = say(url, user, conversation, "When will I get my money?")
    route = trace(url, keys, reply)["steps"][1]["outputs"]
    assert route["rule"] == "question" and route["interrupted"] == "return-refund", route
    assert "I've stopped" not in reply["text"], reply
    assert 'Back to "Return an item for a refund"' in reply["text"], reply
    assert "How would you like the $94 refunded" in reply["text"], reply
    done = say(url, user, conversation, "store credit")  # the return goes on where it was
    assert "order number" not in done["text"], done
    # a sure request for another procedure still switches
    conversation = start(url, keys)
    say(url, user, conversation, "I want to return an item")
    reply = say(url, user, conversation, "Actually, I forgot my password")
    route = trace(url, keys, reply)["steps"][1]["outputs"]
    assert route["rule"] == "switch" and route["routed"] == "procedure:reset-password", route


@pytest.mark.slow
def test_how_long_the_reset_link_is_valid_is_answered_while_the_reset_waits(demo: Any) -> None:
    """Found in the demo (session 45): "How long is the link valid?" while the password reset
    asked for the PIN was answered with the return periods by membership level and a
    gift-code line at 0.74: the sentence that answers it ends with its answer after a
    semicolon ("...; the link is valid for 30 minutes."), and read as a whole it was far from
    the question. The composer ranks a sentence by its closest clause too. The help centre
    said 24 hours while the reset the procedure sends works for 30 minutes; the sample
    knowledge now says what the sample system does."""
    url, keys = demo
    user, conversation = keys["end-user"], start(url, keys)
    say(url, user, conversation, "I can't log in")
    asked = say(url, user, conversation, "jwu455@email.com")
    assert "PIN" in asked["text"], asked
    reply = say(url, user, conversation, "How long is the link valid?")
    assert "the link is valid for 30 minutes" in reply["text"], reply
    assert "membership level" not in reply["text"], reply
    assert 'Back to "Reset a password"' in reply["text"], reply
    sent = say(url, user, conversation, "3052")  # Joyce Wu's PIN in the sample system
    assert "it works for 30 minutes" in sent["text"], sent


@pytest.mark.slow
def test_asking_what_a_choice_offers_gets_its_options_not_a_question_back(demo: Any) -> None:
    """Found in session 48: "what are my options?" when the return asks how to refund was
    searched on its own, found nothing fit to quote, and was asked back ("Could you tell me a
    little more ..."). A question that names nothing but what the waiting question names, or
    a choice's options, is the procedure's to judge: its hint lists the options, the question
    comes again, and an option then goes on. "Which email?" at the email question the same."""
    url, keys = demo
    user, conversation = keys["end-user"], start(url, keys)
    say(url, user, conversation, "I want to return my jeans")
    say(url, user, conversation, "3348917502")
    which = say(url, user, conversation, "Which email?")
    assert which["text"].startswith("That doesn't look like an email address"), which
    assert which["text"].endswith("What email address did you use for that order?"), which
    assert "refunded" in say(url, user, conversation, "cminh730@email.com")["text"]
    reply = say(url, user, conversation, "what are my options?")
    options = "Please answer with one of: credit card, gift card, paper check, store credit."
    assert reply["text"].startswith(options) and reply["text"].endswith("store credit?"), reply
    assert trace(url, keys, reply)["steps"][1]["outputs"]["routed"] == "slot"
    done = say(url, user, conversation, "store credit")
    assert "store credit" in done["text"] and "Could you tell me" not in done["text"], done


@pytest.mark.slow
def test_i_want_a_person_hands_off_as_a_request_for_one(demo: Any) -> None:
    """Found in session 48: after the order lookup, "It's been two weeks, this is ridiculous.
    I want a person." was no request for a human ("want" counted only before "agent" or
    "human"); it was searched, and handed off for a low P and the upset end user, so the
    person taking over read "Why: P(answerable) 0.74 < answer threshold 0.78; ..." rather
    than that the customer asked for them."""
    url, keys = demo
    user, conversation = keys["end-user"], start(url, keys)
    say(url, user, conversation, "Where is order 7916676427?")
    say(url, user, conversation, "aphoenix939@email.com")
    upset = "It's been two weeks, this is ridiculous. I want a person."
    reply = say(url, user, conversation, upset)
    assert reply["decision"] == "handoff", reply
    route = trace(url, keys, reply)["steps"][1]["outputs"]
    assert route["rule"] == "human", route
