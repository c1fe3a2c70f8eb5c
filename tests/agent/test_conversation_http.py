"""Conversations with the demo through its HTTP API (`clearline demo`, what `make run` runs):
small talk and questions about the agent get lines of their own, a goodbye ends what the
next question is searched with, a bare yes or no that answers no question gets a line of
its own, and so does a word that the last reply did not help, a person after it is said
again (session 46; the reply it was said about enters the QA queue, and a yes or no to a
clarifying question that named options gets a line, session 47), a question in another
language than the knowledge is asked for in the knowledge's language, an upset end user the
knowledge cannot answer gets a person, and an answer to a clarifying question picks one of
its options (found in session 33); the agent's guidelines are not quoted for their steps'
fragments (session 34). Each was found by using the demo as a new user, and failed before
its change."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from evaluation.queue import NOT_HELPED
from tests.agent.test_routing_http import start, trace
from tests.privacy.identified import wait_scored
from tests.service.test_demo import demo, say

__all__ = ["demo"]  # the module-scoped fixture that starts the demo server


@pytest.mark.slow
def test_small_talk_after_an_answer_gets_its_own_line_not_the_answer_again(demo: Any) -> None:
    """Found in session 33: "thanks!", "ok" and "bye" after an answer searched the knowledge
    with the answered turn, found its passages again, and repeated the answer at 0.97; "hi"
    got "I couldn't find anything about that"."""
    url, keys = demo
    user, conversation = keys["end-user"], start(url, keys)
    hello = say(url, user, conversation, "Hi there!")
    assert hello["text"].startswith("Hello! You are chatting with an AI assistant"), hello
    assert hello["text"].endswith("What can I help you with?"), hello
    answer = say(url, user, conversation, "How long does shipping take?")
    assert "3 to 5 working days" in answer["text"], answer
    for message, line in [
        ("thanks!", "You're welcome. Is there anything else I can help you with?"),
        ("ok", "Is there anything else I can help you with?"),
        ("ok thanks, bye", "Thank you for contacting us. Goodbye!"),
        ("?", "What can I help you with?"),  # named unrelated passages before
    ]:
        reply = say(url, user, conversation, message)
        assert reply["text"] == line and not reply["citations"], (message, reply)
        steps = trace(url, keys, reply)["steps"]
        assert steps[1]["outputs"]["rule"] == "small_talk", steps[1]
        assert [s["status"] for s in steps[2:5]] == ["skipped"] * 3, steps
    still = say(url, user, conversation, "Hi, how long does shipping take?")  # not only a greeting
    assert "3 to 5 working days" in still["text"], still
    wait_scored(url, keys["qa-lead"], [hello["trace_id"]])
    scores = trace(url, keys, hello)["scores"]  # no answer to judge: the QA queue stays clear
    assert scores["answer_relevance"]["value"] is None, scores
    assert scores["answer_relevance"]["detail"]["reason"] == "not an answer", scores


@pytest.mark.slow
def test_small_talk_while_a_procedure_waits_keeps_it_and_a_goodbye_closes_it(demo: Any) -> None:
    """A goodbye also ends what the next question is searched with."""
    url, keys = demo
    user, conversation = keys["end-user"], start(url, keys)
    assert "order number" in say(url, user, conversation, "Where is my order?")["text"]
    reply = say(url, user, conversation, "thanks")
    resumed = 'You\'re welcome. Back to "Check the status of an order": What is your order number?'
    assert reply["text"].startswith(resumed), reply
    assert "couldn't find an order number" not in reply["text"], reply
    asked = say(url, user, conversation, "1234567890")  # the procedure goes on
    assert "email address" in asked["text"], asked
    bye = say(url, user, conversation, "bye")
    assert bye["text"] == (
        'I\'ve stopped "Check the status of an order". Thank you for contacting us. Goodbye!'
    ), bye
    # searched without the closed lookup's turns: with them, the reply quoted an order-status
    # line ("Options include: 'Order Received', 'In Transit', ...")
    after = say(url, user, conversation, "How much is shipping?")
    assert "Standard shipping is $8.00 per order." in after["text"], after
    assert "Back to" not in after["text"], after
    assert trace(url, keys, after)["steps"][2]["inputs"]["context"] == "", after


@pytest.mark.slow
def test_a_yes_or_no_that_answers_no_question_gets_a_line_not_a_search(demo: Any) -> None:
    """Found in session 46: "no" (or "yes") after "How much is shipping?" was answered was
    searched with that turn and quoted three more shipping prices at 0.96; "no" to "Is there
    anything else I can help you with?" did the same instead of saying goodbye."""
    url, keys = demo
    user, conversation = keys["end-user"], start(url, keys)
    asked = say(url, user, conversation, "How much is shipping?")
    assert "Standard shipping is $8.00 per order." in asked["text"], asked
    for message, line in [
        ("no", "Is there anything else I can help you with?"),  # after an answer
        ("thanks", "You're welcome. Is there anything else I can help you with?"),
        ("yes please", "What can I help you with?"),
    ]:
        reply = say(url, user, conversation, message)
        assert reply["text"] == line and not reply["citations"], (message, reply)
        steps = trace(url, keys, reply)["steps"]
        rule = "small_talk" if message == "thanks" else "yes_no"
        assert steps[1]["outputs"]["rule"] == rule, steps[1]
        assert [s["status"] for s in steps[2:5]] == ["skipped"] * 3, steps
    # searched with the question, without the yes and no exchanges; after "thanks" the answer
    # before it was not known as said and was quoted again (session 46)
    follow = say(url, user, conversation, "How long does it take?")
    assert "3 to 5 working days" in follow["text"], follow
    assert "$8.00" not in follow["text"], follow
    context = trace(url, keys, follow)["steps"][2]["inputs"]["context"]
    assert context.startswith("How much is shipping?") and "yes" not in context, context
    say(url, user, conversation, "thanks")
    bye = say(url, user, conversation, "No, that's all")  # a goodbye (small talk) as before
    assert bye["text"] == "Thank you for contacting us. Goodbye!", bye
    conversation = start(url, keys)
    say(url, user, conversation, "How much is shipping?")
    say(url, user, conversation, "thanks")
    bye = say(url, user, conversation, "nope")
    assert bye["text"] == "Thank you for contacting us. Goodbye!", bye
    after = say(url, user, conversation, "How long does it take?")  # a new conversation
    assert trace(url, keys, after)["steps"][2]["inputs"]["context"] == "", after


@pytest.mark.slow
def test_a_reply_that_did_not_help_gets_a_sorry_then_a_person(demo: Any) -> None:
    """Found in session 46: "that's not what I asked" and "that doesn't help" after the
    shipping price were searched with it and quoted more shipping sentences at 0.97 and 0.99;
    saying so again got more of the same, never a person."""
    url, keys = demo
    user, conversation = keys["end-user"], start(url, keys)
    say(url, user, conversation, "How much is shipping?")
    sorry = say(url, user, conversation, "That's not what I asked")
    assert sorry["text"] == (
        "I'm sorry that didn't help. Could you put your question another way? You can also "
        "ask for a member of our team."
    ), sorry
    assert not sorry["citations"], sorry
    steps = trace(url, keys, sorry)["steps"]
    assert steps[1]["outputs"]["rule"] == "small_talk", steps[1]
    assert [s["status"] for s in steps[2:5]] == ["skipped"] * 3, steps
    again = say(url, user, conversation, "that doesn't help")
    assert again["decision"] == "handoff", again
    assert trace(url, keys, again)["steps"][1]["outputs"]["rule"] == "not_helped", again
    # an upset end user gets a person at once
    conversation = start(url, keys)
    say(url, user, conversation, "How much is shipping?")
    angry = say(url, user, conversation, "This is useless, that's wrong!!!")
    assert angry["decision"] == "handoff", angry
    # while a procedure waits: the sorry, then its question again
    conversation = start(url, keys)
    say(url, user, conversation, "Where is my order?")
    waiting = say(url, user, conversation, "that's not what I asked")
    assert waiting["text"].startswith(
        "I'm sorry that didn't help. Back to \"Check the status of an order\":"
    ), waiting


@pytest.mark.slow
def test_a_reply_that_did_not_help_enters_the_qa_queue(demo: Any) -> None:
    """Found in session 47: "That's not what I asked" got the sorry line, but the answer it
    was said about never reached the QA leads (only a down-rating, a low score, a handoff or
    the random sample queued a reply). The answer enters the queue with the reason and what
    the end user said (session 48: the reason alone sent the lead to a trace that held no
    complaint); the agent's own lines in between (the sorry line, "You're welcome") do not."""
    url, keys = demo
    user, conversation = keys["end-user"], start(url, keys)
    answer = say(url, user, conversation, "How much is shipping?")
    thanks = say(url, user, conversation, "thanks")
    sorry = say(url, user, conversation, "That's not what I asked")
    say(url, user, conversation, "that doesn't help")  # a person takes over
    queue = httpx.get(f"{url}/v1/qa/queue", timeout=30,
                      headers={"Authorization": f"Bearer {keys['qa-lead']}"})  # fmt: skip
    assert queue.status_code == 200, queue.text
    reasons = {item["trace_id"]: item["reasons"] for item in queue.json()}
    said = f"{NOT_HELPED}: That's not what I asked"
    assert said in reasons.get(answer["trace_id"], []), reasons
    for line in (thanks, sorry):
        assert not any(r.startswith(NOT_HELPED) for r in reasons.get(line["trace_id"], [])), (
            line, reasons,
        )  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize("question", ["Am I talking to a bot?", "What can you do?"])
def test_a_question_about_the_agent_says_it_is_an_ai_and_what_it_can_do(
    demo: Any, question: str
) -> None:
    """Found in session 33: both got "I couldn't find anything about that" or a clarifying
    question naming unrelated passages."""
    url, keys = demo
    conversation = start(url, keys)
    reply = say(url, keys["end-user"], conversation, question)
    assert reply["text"].startswith(conversation["disclosure"]), reply
    assert "Check the status of an order" in reply["text"], reply  # a demo procedure's title
    assert "Reset a password" in reply["text"], reply


@pytest.mark.slow
def test_asking_whether_the_agent_is_a_person_gets_the_truth_not_a_handoff(demo: Any) -> None:
    """Found in session 38: "Is this a real person?" and "Are you human?" were handed off (the
    words "real person" and "human" read as a request for one), "Am I talking to a human?"
    got "I couldn't find anything about that". The end user asked what the agent is; the
    reply says it is an AI and that a person is there for the asking. A request for a person
    that also asks is still handed off."""
    url, keys = demo
    user = keys["end-user"]
    for question in ["Is this a real person?", "Are you human?", "Am I talking to a human?",
                     "Am I chatting with a real person or a machine?"]:  # fmt: skip
        conversation = start(url, keys)
        reply = say(url, user, conversation, question)
        assert reply["decision"] == "answered", (question, reply)
        assert reply["text"].startswith(conversation["disclosure"]), (question, reply)
        route = trace(url, keys, reply)["steps"][1]
        assert route["outputs"]["rule"] == "small_talk", (question, route)
        if question != "Am I talking to a human?":  # the others name a person for rule 2
            assert "asks whether the agent is one, so no handoff" in route["reason"], route
    conversation = start(url, keys)
    assert "order number" in say(url, user, conversation, "Where is my order?")["text"]
    waiting = say(url, user, conversation, "Are you a real person?")
    assert waiting["text"] == (
        f'{conversation["disclosure"]} Back to "Check the status of an order": '
        "What is your order number? It's the 10-digit number in your confirmation email."
    ), waiting
    asks = say(url, user, start(url, keys), "Are you a real person? I want to talk to one.")
    assert asks["decision"] == "handoff", asks


@pytest.mark.slow
def test_a_question_in_another_language_is_asked_for_in_english_once(demo: Any) -> None:
    """Found in session 33: "¿Cuánto cuesta el envío?" got "I couldn't find anything about
    that. Could you put it another way?", in English."""
    url, keys = demo
    user, conversation = keys["end-user"], start(url, keys)
    spanish = say(url, user, conversation, "¿Cuánto cuesta el envío?")
    assert spanish["decision"] == "clarify", spanish
    assert spanish["text"].startswith("Lo siento, solo puedo responder en inglés."), spanish
    assert "Sorry, I can only answer in English." in spanish["text"], spanish
    # the English question is searched without the Spanish turn (with it, it was handed off)
    english = say(url, user, conversation, "How much is shipping?")
    assert "Standard shipping is $8.00 per order." in english["text"], english
    again = start(url, keys)
    say(url, user, again, "Wie lange dauert der Versand?")
    assert say(url, user, again, "Wo ist meine Bestellung?")["decision"] == "handoff"


@pytest.mark.slow
def test_an_upset_end_user_the_knowledge_cannot_answer_gets_a_person(demo: Any) -> None:
    """Found in session 33: "This is ridiculous, your service is terrible!" got "Do you mean
    "Status Service Removed", ...?". An upset end user with an answerable question still gets
    the answer."""
    url, keys = demo
    user = keys["end-user"]
    reply = say(url, user, start(url, keys), "This is ridiculous, your service is terrible!")
    assert reply["decision"] == "handoff", reply
    assert reply["text"].startswith("I'm sorry for the trouble. I'm handing"), reply
    assert "the end user is upset" in trace(url, keys, reply)["steps"][-1]["reason"], reply
    angry = "This is ridiculous!! How long does shipping take?"
    assert "3 to 5 working days" in say(url, user, start(url, keys), angry)["text"]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("Shipping costs", "Standard shipping is $8.00 per order."),  # was handed off
        ("the second one", "The premium subscription costs $99 a year."),
    ],
)
def test_the_answer_to_a_clarifying_question_is_searched_with_the_question_asked(
    demo: Any, answer: str, expected: str
) -> None:
    url, keys = demo
    user, conversation = keys["end-user"], start(url, keys)
    asked = say(url, user, conversation, "How much does it cost?")
    assert asked["text"].endswith(  # a help page's topics first (session 34)
        'Do you mean "Shipping costs", "Premium subscription" or "Missing or damaged items"?'
    ), asked
    reply = say(url, user, conversation, answer)
    assert reply["decision"] == "answered" and expected in reply["text"], reply


@pytest.mark.slow
def test_a_yes_or_no_to_a_clarifying_question_is_not_taken_for_an_option(demo: Any) -> None:
    """Found in session 47: "no" to 'Do you mean "Shipping costs", "Premium subscription" or
    ...?' was searched with the question and answered with one of the options it had just
    turned down; "yes" was answered the same way, though it names none. Now "no" is told
    that is all there is (and how to reach a person), "yes" is asked which one, and an
    option picked after that is answered."""
    url, keys = demo
    user, conversation = keys["end-user"], start(url, keys)
    options = '"Shipping costs", "Premium subscription" or "Missing or damaged items"'
    assert say(url, user, conversation, "How much does it cost?")["text"].endswith(options + "?")
    which = say(url, user, conversation, "yes")
    assert which["text"] == f"Which one do you mean: {options}?" and not which["citations"]
    picked = say(url, user, conversation, "the second one")
    assert "The premium subscription costs $99 a year." in picked["text"], picked
    conversation = start(url, keys)
    say(url, user, conversation, "How much does it cost?")
    none = say(url, user, conversation, "no")
    assert none["text"] == (
        "I'm sorry, that is all I found about it. Could you put your question another way? "
        "You can also ask for a member of our team."
    ), none
    assert none["decision"] == "answered" and not none["citations"], none


@pytest.mark.slow
def test_a_guidelines_step_is_never_the_answer(demo: Any) -> None:
    """Found in session 34. "What sizes do your boots come in?" quoted a step of the product
    guideline ("Decide which article of clothing the customer is asking about: Possible
    options are Jeans, Shirt, Boots and Jacket Click the boots toggle switch ..."); "I was
    charged twice for my order" quoted "Full name - may have gotten this earlier ..."; "Why
    was I charged a fee?" told the end user "this is a customer error". An upset end user
    whose question nothing in the knowledge is like gets a person; an unknown subject is not
    answered and nothing is quoted for it (asked back once while P(answerable) is at least
    the clarify threshold; with the model of session 43 "Is your cotton organic?" is below it
    and handed to a person). The help centre's returns section is read before the guidelines
    that outrank it."""
    url, keys = demo
    user = keys["end-user"]
    sizes = say(url, user, start(url, keys), "What sizes do your boots come in?")
    assert sizes["decision"] == "answered" and "sizes" in sizes["text"], sizes
    # which sentences of the help centre's sizes paragraph fall within the composer's margin
    # differs between CPUs ("Each product page has a size guide." is out of it on AVX-512 VNNI)
    assert {c["title"] for c in sizes["citations"]} == {"help centre"}, sizes
    for step_line in ("toggle switch", "Possible options", "record an action"):
        assert step_line not in sizes["text"], sizes
    twice = say(url, user, start(url, keys), "I was charged twice for my order")
    assert twice["decision"] == "handoff" and "may have gotten" not in twice["text"], twice
    steps = {s["name"]: s for s in trace(url, keys, twice)["steps"]}  # what a QA lead reads
    assert "nothing to quote" in steps["compose"]["reason"], steps["compose"]
    assert steps["decide"]["reason"].startswith("nothing in the passages is fit to quote"), steps
    fee = say(url, user, start(url, keys), "Why was I charged a fee?")
    assert "customer error" not in fee["text"], fee
    returns = say(url, user, start(url, keys), "What is your return policy?")
    assert "returns portal" in returns["text"], returns  # the help centre, read first
    cotton = say(url, user, start(url, keys), "Is your cotton organic?")
    assert cotton["decision"] in ("clarify", "handoff") and not cotton["citations"], cotton
    for step_line in ("toggle switch", "Possible options", "may have gotten"):
        assert step_line not in cotton["text"], cotton


@pytest.mark.slow
def test_a_follow_up_is_not_answered_with_the_answer_before_it(demo: Any) -> None:
    """Found in session 34: "How long does it take?" after "Do you ship to Canada?" was
    searched with that turn and quoted its answer again ("We ship to the United States and
    Canada only."). The compose step leaves out the sentences of the answer just before,
    unless the message names something they say."""
    url, keys = demo
    user, conversation = keys["end-user"], start(url, keys)
    first = say(url, user, conversation, "Do you ship to Canada?")
    assert first["decision"] == "answered", first
    follow_up = say(url, user, conversation, "How long does it take?")
    assert "7 to 10 working days" in follow_up["text"], follow_up
    assert first["text"] not in follow_up["text"], follow_up
    compose = next(s for s in trace(url, keys, follow_up)["steps"] if s["name"] == "compose")
    assert "of the answer just before left out" in compose["reason"], compose
    hours = say(url, user, conversation, "What are your support hours?")
    saturday = say(url, user, conversation, "And on Saturday?")  # asks about a part of it
    assert "Saturday 9:00 am to 5:00 pm" in hours["text"] and saturday["text"] == hours["text"]


@pytest.mark.slow
def test_a_follow_up_is_not_answered_with_the_answer_before_said_again_elsewhere(
    demo: Any,
) -> None:
    """Found in session 38: "What about cash?" after "What payment methods do you accept?"
    (answered "Valid payment methods are credit card, debit card and PayPal.", from an agent
    guideline) quoted the help centre's "We accept credit cards, debit cards and PayPal.":
    the same fact in other words, which the rule above did not see as said.

    Whether the next sentence of that paragraph ("You can change the payment method saved in
    your account ...") is quoted too depends on the CPU: the int8 embedder's vectors differ
    on a machine without VNNI, where that sentence falls within the composer's margin
    (docs/benchmarks.md, "The same int8 model on another CPU"). This rule is about the
    earlier answer's fact, so that is what is checked."""
    url, keys = demo
    user, conversation = keys["end-user"], start(url, keys)
    first = say(url, user, conversation, "What payment methods do you accept?")
    assert "PayPal" in first["text"] and first["decision"] == "answered", first
    cash = say(url, user, conversation, "What about cash?")
    assert cash["text"].startswith("We do not accept cash, bank transfers or cryptocurrency."), cash
    assert "We accept credit cards, debit cards and PayPal." not in cash["text"], cash


@pytest.mark.slow
def test_a_question_that_asks_to_be_told_is_searched_for_its_topic(demo: Any) -> None:
    """Found in session 38: "I'd like to know more about shipping" got "Could you tell me a
    little more about what you need?": "like", "know" and "more" ranked an account guideline
    first. The phrase that asks to be told is left out of what is searched."""
    url, keys = demo
    reply = say(url, keys["end-user"], start(url, keys), "I'd like to know more about shipping")
    assert "Standard shipping is $8.00 per order." in reply["text"], reply
    retrieve = next(s for s in trace(url, keys, reply)["steps"] if s["name"] == "retrieve")
    assert retrieve["inputs"]["query"] == "more about shipping", retrieve["inputs"]


@pytest.mark.slow
def test_a_follow_up_that_asks_what_the_answer_before_said_gets_it_again(demo: Any) -> None:
    """Found in session 36: "How much?" after "Is overnight shipping available?" (answered
    "... Overnight shipping is $25.00 per order.") quoted the standard and Canadian prices;
    the compose step left out the overnight price because the answer just before had said
    it. A sentence that holds the short answer the message asks for (an amount for "How
    much?") is quoted again."""
    url, keys = demo
    user, conversation = keys["end-user"], start(url, keys)
    first = say(url, user, conversation, "Is overnight shipping available?")
    assert "Overnight shipping is $25.00 per order." in first["text"], first
    price = say(url, user, conversation, "How much?")
    assert price["decision"] == "answered", price
    assert price["text"].startswith("Overnight shipping is $25.00 per order."), price
    assert "$8.00" not in price["text"], price


@pytest.mark.slow
def test_a_change_to_the_accounts_own_details_is_not_a_change_of_delivery_address(
    demo: Any,
) -> None:
    """Found in session 34: "I need to update my email address" started the change-of-address
    procedure ("Which order should go to a new address?"). The demo has an intent for it
    with no procedure (examples/intents.yaml), and its help centre says who makes the change.
    Phrasings that are not among the intent's examples."""
    url, keys = demo
    for message in (
        "Can you update the email address on my account?",
        "change my phone number please",
    ):
        reply = say(url, keys["end-user"], start(url, keys), message)
        assert reply["decision"] == "answered", reply
        assert "a member of our team" in reply["text"] and "order" not in reply["text"], reply


@pytest.mark.slow
def test_a_clarifying_question_names_no_guideline_for_the_agent(demo: Any) -> None:
    """Found in session 35: "I want to change something" was asked back 'Do you mean "Manage
    Change Phone", "Manage Change Name" or "Manage Change Address"?', section names of a
    guideline written for the agent; "service removed" offered "Status Service Removed". The
    help centre's topics are named instead, and where only a guideline speaks to the
    message, the end user is asked for more detail (something was found, so not "I couldn't
    find anything"). The trace says guidelines were found and not named."""
    url, keys = demo
    user = keys["end-user"]
    change = say(url, user, start(url, keys), "I want to change something")
    assert change["decision"] == "clarify" and "Do you mean" in change["text"], change
    assert "Manage" not in change["text"], change
    assert '"Changing or cancelling an order"' in change["text"], change
    removed = say(url, user, start(url, keys), "service removed")
    assert removed["text"].endswith("Could you tell me a little more about what you need?")
    decide = trace(url, keys, removed)["steps"][-1]
    assert "guidelines for the agent, not named" in decide["reason"], decide


@pytest.mark.slow
def test_a_procedures_handoff_tells_the_end_user_its_own_line(demo: Any) -> None:
    """Found in session 35: an order number with an email it was not placed under was
    handed off with the general line, not the order-status procedure's `say` ("I couldn't
    find that order under that email address. ..."), so the end user never learnt why."""
    url, keys = demo
    user, conversation = keys["end-user"], start(url, keys)
    say(url, user, conversation, "Where is my order?")
    say(url, user, conversation, "3348917502")
    reply = say(url, user, conversation, "wrong@example.com")
    assert reply["decision"] == "handoff", reply
    assert reply["text"] == (
        "I couldn't find that order under that email address. A colleague will help you find it."
    ), reply
    decide = trace(url, keys, reply)["steps"][-1]
    assert "No order 3348917502 matches the email" in decide["reason"], decide
    # and an order found reads as a sentence ("... (Guess boots) is order received; ..." before)
    found = start(url, keys)
    say(url, user, found, "Where's my package? My email is jwu455@email.com")
    status = say(url, user, found, "5520194863")  # the email was read from the first message
    assert status["text"] == (
        'Order 5520194863 (Guess boots) has the status "order received"; the expected delivery '
        "date is 2024-06-07."
    ), status


@pytest.mark.slow
def test_a_misspelt_question_is_read_with_the_knowledges_words(demo: Any) -> None:
    """Found in session 35: "retrun policy" and "how do i retun jeans" were asked back ("Could
    you tell me a little more about what you need?"). The retrieve step lists the correction
    for a QA lead."""
    url, keys = demo
    reply = say(url, keys["end-user"], start(url, keys), "retrun policy")
    assert reply["decision"] == "answered", reply
    assert "returns portal" in reply["text"], reply
    retrieve = trace(url, keys, reply)["steps"][2]
    assert retrieve["inputs"]["spelling"] == {"retrun": "return"}, retrieve


@pytest.mark.slow
def test_an_address_after_a_procedure_ended_is_not_called_another_language(demo: Any) -> None:
    """Found in session 37: the address change said order 3348917502 was delivered, so its
    address can no longer be changed; the end user then sent the new address, "12 Oak Street,
    Springfield, IL 62701", and got "Sorry, I can only answer in English.": both language
    detectors read it as Afrikaans."""
    url, keys = demo
    user, conversation = keys["end-user"], start(url, keys)
    say(url, user, conversation, "I need to change my delivery address")
    say(url, user, conversation, "3348917502")
    ended = say(url, user, conversation, "cminh730@email.com")
    assert "can no longer be changed" in ended["text"], ended
    reply = say(url, user, conversation, "12 Oak Street, Springfield, IL 62701")
    assert "only answer in" not in reply["text"], reply
    language = trace(url, keys, reply)["steps"][0]["outputs"]["language"]
    assert language["confidence"] < 0.8, language
