"""Conversations with the demo's procedures through its HTTP API (`clearline demo`, what
`make run` runs), found by using the demo as a new user in sessions 37 and 38, each failing
before its change: a message that names the order starts the order lookup; while a procedure
waits, a question about its case is not asked back, an end user who cannot give the value is
told how to reach a person, and "Why do you need that?" gets a reason; asking to be told
about a topic ("Tell me about the premium subscription") starts no procedure, and a question
about the case a procedure just answered gets that answer again; an order number typed in
groups ("791-667-6427") is read (session 48)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.agent.test_routing_http import start, trace
from tests.service.test_demo import demo, say

__all__ = ["demo"]  # the module-scoped fixture that starts the demo server


@pytest.mark.slow
def test_a_message_that_names_the_order_starts_the_order_lookup(demo: Any) -> None:
    """Found in the demo (session 37): "Where is order 7916676427?" was answered from the help
    centre ("When your order ships, we email you a tracking link..."), and the email sent next
    was searched too: the message has no own-case words ("my", "I ..."). A message that holds
    a value the procedure asks for (an order number, an email) is about the user's own case."""
    url, keys = demo
    user, conversation = keys["end-user"], start(url, keys)
    reply = say(url, user, conversation, "Where is order 7916676427?")
    route = trace(url, keys, reply)["steps"][1]["outputs"]
    assert route["routed"] == "procedure:order-status", route
    assert reply["text"] == "And the email address you used for that order?", reply
    found = say(url, user, conversation, "aphoenix939@email.com")
    assert 'has the status "in transit"' in found["text"], found
    general = say(url, user, start(url, keys), "How long does shipping take?")
    assert "3 to 5 working days" in general["text"], general


@pytest.mark.slow
def test_asking_what_the_waiting_procedure_finds_out_is_not_asked_back(demo: Any) -> None:
    """Found in the demo (session 37): "When will it arrive?" while the order lookup waited
    for the email address got "Could you tell me a little more about what you need?", then the
    question for the email again. The help centre cannot say when the user's own order
    arrives; the lookup can. A question about the case the procedure handles (it points back,
    and its intent is the procedure's own) that the knowledge does not answer gets a line
    saying the procedure is finding it out. A question the knowledge answers is still
    answered; one that does not point back ("How long do refunds take?" during a return) is
    not told that the return finds it out."""
    url, keys = demo
    user, conversation = keys["end-user"], start(url, keys)
    assert "order number" in say(url, user, conversation, "Where is my order?")["text"]
    assert "email" in say(url, user, conversation, "3348917502")["text"]
    reply = say(url, user, conversation, "When will it arrive?")
    assert "a little more" not in reply["text"], reply
    assert reply["text"].startswith("That's what I'm checking for you."), reply
    assert 'Back to "Check the status of an order": And the email' in reply["text"], reply
    steps = trace(url, keys, reply)["steps"]
    assert steps[1]["outputs"]["procedures_own"] == "order_status", steps[1]
    assert "intent 'order_status'" in steps[-1]["reason"], steps[-1]
    answered = say(url, user, conversation, "How long does standard shipping take?")
    assert "3 to 5 working days" in answered["text"], answered
    returning = start(url, keys)
    assert "order number" in say(url, user, returning, "I want to return my boots")["text"]
    general = say(url, user, returning, "How long do refunds take?")
    assert "checking for you" not in general["text"], general


@pytest.mark.slow
def test_an_end_user_who_cannot_give_the_email_is_told_how_to_reach_a_person(demo: Any) -> None:
    """Found in session 37: "I don't remember the email" while the order lookup asked for it got
    "That doesn't look like an email address (for example name@example.com)."; now a line that
    says how to reach a person, then the question again, and asking for one hands off. "I
    forgot which email I used" started the password reset ("I forgot" is its intent's); it
    names what the question asks for, so it gets the same line."""
    url, keys = demo
    user, conversation = keys["end-user"], start(url, keys)
    say(url, user, conversation, "Where is my order?")
    assert "email" in say(url, user, conversation, "3348917502")["text"]
    reply = say(url, user, conversation, "I don't remember the email")
    assert "doesn't look like an email address" not in reply["text"], reply
    assert reply["text"].startswith("No problem. If you can't find it, ask for a person"), reply
    assert reply["text"].endswith("And the email address you used for that order?"), reply
    forgot = say(url, user, conversation, "I forgot which email I used")
    assert forgot["text"] == reply["text"], forgot
    route = trace(url, keys, forgot)["steps"][1]["outputs"]
    assert route["routed"] == "slot" and route["request"]["unable"] == "forgot", route
    person = say(url, user, conversation, "Can I talk to a person?")
    assert person["decision"] == "handoff", person


@pytest.mark.slow
def test_a_bare_no_to_the_order_number_says_how_to_reach_a_person(demo: Any) -> None:
    """Found in session 47: "no" to "What is your order number?" got "I couldn't find an order
    number in that (it is the number on your receipt).", as if a number had been mistyped."""
    url, keys = demo
    user, conversation = keys["end-user"], start(url, keys)
    say(url, user, conversation, "Where is my order?")
    reply = say(url, user, conversation, "no")
    assert reply["text"].startswith("No problem. If you can't find it, ask for a person"), reply
    assert reply["text"].endswith("What is your order number? It's the 10-digit number in your "
                                  "confirmation email."), reply  # fmt: skip


@pytest.mark.slow
def test_asking_why_the_agent_needs_a_value_gets_a_reason_and_the_question_again(
    demo: Any,
) -> None:
    """Found in session 37: "Why do you need my email?" during the password reset was searched
    in the knowledge and asked back ('Do you mean "store contact and hours" or ...'), and "What
    do you need that for?" during the order lookup was handed off, closing the lookup. Now
    the agent says why, asks again, and the procedure goes on."""
    url, keys = demo
    user, conversation = keys["end-user"], start(url, keys)
    say(url, user, conversation, "Where is my order?")
    say(url, user, conversation, "3348917502")
    reply = say(url, user, conversation, "What do you need that for?")
    assert reply["text"] == (
        'I need it to carry out your request. Back to "Check the status of an order": '
        "And the email address you used for that order?"
    ), reply
    route = trace(url, keys, reply)["steps"][1]["outputs"]
    assert route["rule"] == "why" and route["interrupted"] == "order-status", route
    done = say(url, user, conversation, "cminh730@email.com")
    assert "delivered on 2024-04-30" in done["text"], done


@pytest.mark.slow
def test_a_misspelt_request_starts_its_procedure(demo: Any) -> None:
    """Found in the demo (session 37): "is my subscripton active" was answered from the help
    centre ("You can cancel it at any time...") and "chnage my adress please" with the rule
    for changing an order: the intent was predicted on the misspelt words, which the knowledge
    search already corrected. The intent is now predicted on the corrected message too."""
    url, keys = demo
    user = keys["end-user"]
    for message, route, asks in [
        ("is my subscripton active", "procedure:subscription-status", "email address"),
        ("chnage my adress please", "procedure:change-shipping-address", "order number"),
    ]:
        reply = say(url, user, start(url, keys), message)
        steps = trace(url, keys, reply)["steps"]
        assert steps[1]["outputs"]["routed"] == route, steps[1]
        assert asks in reply["text"], reply
        assert steps[0]["outputs"]["intent"]["detail"]["spelling"], steps[0]


@pytest.mark.slow
def test_asking_to_be_told_about_a_topic_gets_the_answer_not_a_procedure(demo: Any) -> None:
    """Found in the demo (session 38): "Tell me about the premium subscription" started the
    subscription check ("What is the email address on your account?"), and "Can you tell me
    about your return policy?" the return ("me" read as the user's own case, "tell" as an
    instruction). Asking to be told is a question; "Tell me where my order is" still starts
    the lookup ("my")."""
    url, keys = demo
    user = keys["end-user"]
    for message, expected in [
        ("Tell me about the premium subscription", "The premium subscription costs $99 a year."),
        ("Can you tell me about your return policy?", "northwind-outfitters.example/returns"),
    ]:
        reply = say(url, user, start(url, keys), message)
        assert expected in reply["text"] and reply["decision"] == "answered", (message, reply)
        route = trace(url, keys, reply)["steps"][1]["outputs"]
        assert route["routed"] == "knowledge", route
        assert "asks to be told" in str(route["request"]["evidence"]), route
    own = say(url, user, start(url, keys), "Tell me where my order is")
    assert "order number" in own["text"], own


@pytest.mark.slow
def test_a_question_about_the_case_a_procedure_just_answered_gets_its_answer_again(
    demo: Any,
) -> None:
    """Found in the demo (session 38): right after the order lookup said 'Order 7916676427
    (Michael Kors shirt) has the status "in transit"; the expected delivery date is
    2024-06-04.', "When will it arrive?" got "Could you tell me a little more about what you
    need?": the finished procedure was forgotten. A question that points back at the case
    ("it") with the procedure's own intent now gets that answer again; a question on another
    subject is answered from the knowledge, and after it the lookup is forgotten; a question
    that names another order starts a new lookup."""
    url, keys = demo
    user, conversation = keys["end-user"], start(url, keys)
    say(url, user, conversation, "Where is order 7916676427?")
    found = say(url, user, conversation, "aphoenix939@email.com")
    assert "the expected delivery date is 2024-06-04" in found["text"], found
    again = say(url, user, conversation, "When will it arrive?")
    assert again["text"] == f"As I said: {found['text']}", again
    assert again["decision"] == "answered" and not again["citations"], again
    steps = trace(url, keys, again)["steps"]
    assert steps[1]["outputs"]["rule"] == "again", steps[1]
    assert [s["status"] for s in steps[2:5]] == ["skipped"] * 3, steps
    still = say(url, user, conversation, "Has it shipped yet?")  # still about the order
    assert still["text"] == again["text"], still
    other = say(url, user, conversation, "Do you ship to Canada?")
    assert other["text"] == "We ship to the United States and Canada only.", other
    later = say(url, user, conversation, "When will it arrive?")  # the lookup is forgotten
    assert "As I said" not in later["text"], later
    another = start(url, keys)  # a question naming another order starts a new lookup
    say(url, user, another, "Where is order 7916676427?")
    say(url, user, another, "aphoenix939@email.com")
    new = say(url, user, another, "When will order 3348917502 arrive, is it delivered?")
    assert new["text"] == "And the email address you used for that order?", new


@pytest.mark.slow
def test_an_order_number_typed_in_groups_is_read(demo: Any) -> None:
    """Found in session 48: "791-667-6427" or "7916 676 427" at the order-number question
    got "I couldn't find an order number in that", as if it were no number, and a third try
    handed off. An order number slot reads the message without spaces or dashes between
    digits when it finds no number as typed; a message that starts the lookup does too."""
    url, keys = demo
    user, conversation = keys["end-user"], start(url, keys)
    say(url, user, conversation, "Where is my order?")
    asked = say(url, user, conversation, "it's 791-667-6427")
    assert asked["text"] == "And the email address you used for that order?", asked
    found = say(url, user, conversation, "aphoenix939@email.com")
    assert 'Order 7916676427 (Michael Kors shirt) has the status "in transit"' in found["text"]
    named = say(url, user, start(url, keys), "Where is order 7916 676 427?")
    assert named["text"] == "And the email address you used for that order?", named
