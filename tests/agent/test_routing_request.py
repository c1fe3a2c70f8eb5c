"""The request signal routing reads (agent/understand/request.py)."""

from __future__ import annotations

import pytest

from agent.procedures.interrupted import about_the_question
from agent.procedures.load import ProcedureSet
from agent.procedures.model import Ask, Validation
from agent.route import takes
from agent.understand.request import (
    read_request,
    without_asking_to_be_told,
    without_stopping,
)


@pytest.mark.parametrize(
    "message",
    ["Where is my order?", "I forgot the password", "Please track the parcel",
     "Could you look at the delivery?", "Reset my password", "we ordered boots last week",
     "I'm having trouble signing in", "I am an existing customer and I forgot the password"],
)  # fmt: skip
def test_requests_about_the_users_own_case(message: str) -> None:
    assert read_request(message).request


@pytest.mark.parametrize(
    "message",
    ["How long does shipping take?", "Can I pay with PayPal?", "Do you ship abroad?",
     "What is the return window for gold members?", "Who is your CEO?",
     "Do you ask for my password by email?", "Will you ever ask for my password?",
     "Does your store ship to my country?", "Do you charge me if I return late?",
     # what would happen (session 34: the first started the subscription procedure)
     "What happens if my subscription payment is late?", "What if my order doesn't arrive?",
     # who the user is, not their case (session 37: the first started the return procedure)
     "I'm a Gold member, how long do I have to return something?",
     "I am a guest customer, can I return boots?", "We're a small shop, do you ship to Canada?",
     # asking to be told (session 38: the first started the subscription procedure)
     "Tell me about the premium subscription", "Can you tell me about your return policy?",
     "I'd like to know more about shipping please", "Please explain the refund rules",
     "What can you tell me about gift cards?"],
)  # fmt: skip
def test_general_questions_are_not_requests(message: str) -> None:
    signal = read_request(message)
    assert not signal.request and signal.question


@pytest.mark.parametrize(
    "message",
    ["never mind", "Forget it, thanks", "cancel that please",
     # after a word that only opens what is said (session 44: not a stop, so "Oh never mind"
     # was judged as the order number the procedure asked for)
     "Oh never mind", "Actually, forget it", "No, never mind", "ok cancel that"],
)  # fmt: skip
def test_stop_phrases_open_the_message(message: str) -> None:
    assert read_request(message).stop


@pytest.mark.parametrize(
    ("message", "rest"),
    [("never mind, what's your returns policy?", "what's your returns policy?"),
     ("Forget it. How long does shipping take?", "How long does shipping take?"),
     ("Actually never mind \u2014 do you sell gift cards?", "do you sell gift cards?"),
     ("never mind what is your returns policy?", "what is your returns policy?"),
     ("Forget it, thanks", "thanks"),
     ("never mind", ""),
     # no break after the phrase: "stop" is the verb of the request, nothing follows a stop
     ("Stop my subscription please", ""), ("don't bother with it", "")],
)  # fmt: skip
def test_what_follows_a_stop_is_kept(message: str, rest: str) -> None:
    """Session 44: "Forget it. How long does shipping take?" while a procedure waited closed
    it and the question was never answered; what follows the stop is what routing answers."""
    signal = read_request(message)
    assert signal.stop and signal.after_stop == rest


@pytest.mark.parametrize(
    ("message", "searched"),
    [("Forget it. How long does shipping take?", "How long does shipping take?"),
     ("never mind", "never mind"), ("Stop my subscription please", "Stop my subscription please"),
     ("How long does shipping take?", "How long does shipping take?")],
)  # fmt: skip
def test_the_stop_phrase_before_a_question_is_not_searched(message: str, searched: str) -> None:
    assert without_stopping(message) == searched


def test_a_stop_word_inside_a_sentence_is_not_a_stop() -> None:
    assert not read_request("When does the store stop taking orders?").stop


def test_the_evidence_names_the_words() -> None:
    assert read_request("check my order please").evidence == ("my", "please", "imperative 'check'")


@pytest.mark.parametrize(
    "message",
    ["Do you know where my order is?", "Will you reset my password?",
     "Do you ship to my country? Please check my order 1234567890"],
)  # fmt: skip
def test_a_general_opening_that_goes_on_as_a_request_is_one(message: str) -> None:
    assert read_request(message).request


@pytest.mark.parametrize(
    "message",
    ["Tell me where my order is", "Can you tell me the status of my subscription?",
     "I want to know when my refund arrives", "Explain why my order is late"],
)  # fmt: skip
def test_asking_to_be_told_about_the_users_own_case_is_a_request(message: str) -> None:
    signal = read_request(message)
    assert signal.request and signal.evidence[0] == "my", signal


def test_asking_to_be_told_says_so_in_the_evidence() -> None:
    signal = read_request("Can you tell me about the premium subscription?")
    assert signal.evidence == ("asks to be told 'can you tell me'",), signal


@pytest.mark.parametrize(
    ("message", "searched"),
    [("I'd like to know more about shipping", "more about shipping"),
     ("I\u2019d like to know the price of boots", "the price of boots"),
     ("Can you tell me about your return policy?", "about your return policy?"),
     ("Tell me", "Tell me"),  # nothing else to search for
     ("Can you tell me?", "Can you tell me?"),
     ("How long does shipping take?", "How long does shipping take?")],
)  # fmt: skip
def test_the_knowledge_is_searched_without_the_phrase_that_asks_to_be_told(
    message: str, searched: str
) -> None:
    assert without_asking_to_be_told(message) == searched


def test_a_general_question_says_so_in_the_evidence() -> None:
    signal = read_request("Do you ask for my password by email?")
    assert signal.evidence == ("general question 'do you'",) and not signal.own_case


@pytest.mark.parametrize(
    ("message", "ending"),
    [("I'd like to cancel my premium subscription", ("cancel",)),
     ("Can you stop my subscription please?", ("stop my",)),
     ("I want to unsubscribe", ("unsubscribe",)),
     ("My order was due by the end of the week", ()),
     ("The tracking page stopped updating", ()),
     ("Is my premium subscription still active?", ())],
)  # fmt: skip
def test_the_words_that_ask_to_end_something(message: str, ending: tuple[str, ...]) -> None:
    assert read_request(message).ending == ending


def procedure(id_: str, title: str, examples: list[str]) -> str:
    return (f"id: {id_}\ntitle: {title}\nintents: [{id_}]\nexamples: {examples}\n"
            "steps:\n  - id: done\n    reply: ok\n")  # fmt: skip


def test_a_procedure_takes_a_request_to_end_something_only_if_it_asks_to_end_too() -> None:
    procedures = ProcedureSet.from_texts(
        {"status.yaml": procedure("status", "Check the subscription", ["is my plan active"]),
         "cancel.yaml": procedure("cancel", "End a plan", ["please cancel my plan"])},
        {},
    )  # fmt: skip
    cancel, check = read_request("Cancel my plan"), read_request("Is my plan active?")
    assert not takes(procedures.get("status"), cancel)
    assert takes(procedures.get("cancel"), cancel)  # its example asks to cancel
    assert takes(procedures.get("status"), check) and takes(procedures.get("cancel"), check)


@pytest.mark.parametrize(
    ("message", "timing"),
    [("When will my refund arrive?", "when will"), ("when's my next payment due", "when's"),
     ("How long until I get my money back?", "how long until"),
     ("I want to return it when I get home", ""), ("Where is my order?", ""),
     ("When I sign in, it says my password is wrong", "")],
)  # fmt: skip
def test_a_question_about_when_opens_with_its_words(message: str, timing: str) -> None:
    assert read_request(message).timing == timing


def test_a_procedure_takes_a_question_about_when_only_if_its_examples_ask_one() -> None:
    procedures = ProcedureSet.from_texts(
        {"track.yaml": procedure("track", "Track an order", ["when will my order arrive"]),
         "refund.yaml": procedure("refund", "Refund an item", ["I want a refund"])},
        {},
    )  # fmt: skip
    when = read_request("When will my refund arrive?")
    assert takes(procedures.get("track"), when) and not takes(procedures.get("refund"), when)
    assert takes(procedures.get("refund"), read_request("I want my money back"))


@pytest.mark.parametrize(
    ("message", "pointing"),
    [("When will it arrive?", "it"), ("Have they shipped yet?", "they"),
     ("Is this one on its way?", "this"), ("How long do refunds take?", ""),
     ("Is there a fee for returns?", "")],
)  # fmt: skip
def test_the_pronoun_that_points_back_at_the_case(message: str, pointing: str) -> None:
    assert read_request(message).pointing == pointing


@pytest.mark.parametrize(
    ("message", "unable"),
    [("I don't remember the email", "don't remember"), ("I lost the confirmation email", "lost"),
     ("no idea, sorry", "no idea"), ("3348917502", ""), ("I have it here: 3348917502", "")],
)  # fmt: skip
def test_the_words_that_say_the_user_cannot_give_a_value(message: str, unable: str) -> None:
    assert read_request(message).unable == unable


@pytest.mark.parametrize(
    ("message", "why"),
    [("Why do you need my email?", "why do you need"), ("why?", "why"),
     ("What do you need that for?", "what do you need that for"),
     ("Why is my order late?", ""), ("Why", "why")],
)  # fmt: skip
def test_the_words_that_ask_why_a_value_is_needed(message: str, why: str) -> None:
    assert read_request(message).why == why


EMAIL = Ask(slot="email", prompt="What email address did you use for that order?",
            check=Validation(kind="email"))  # fmt: skip
REFUND = Ask(slot="method", prompt="How would you like it refunded: card or store credit?",
             check=Validation(kind="choice", choices=["card", "store credit"]))  # fmt: skip


@pytest.mark.parametrize(
    ("ask", "message", "about"),
    [(EMAIL, "How?", True), (EMAIL, "Which email?", True), (EMAIL, "What do you mean?", True),
     (EMAIL, "What are my options?", False),  # only a choice offers options
     (EMAIL, "What is the email address for support?", False),
     (REFUND, "What are my options?", True), (REFUND, "what choices do I have?", True),
     (REFUND, "Which one is fastest?", False), (REFUND, "How long does a card refund take?", False),
     (None, "How?", False)],
)  # fmt: skip
def test_a_question_about_the_waiting_question(ask: Ask | None, message: str, about: bool) -> None:
    """Session 48: a question that names nothing but what the waiting question names, what it
    means, or a choice's options is the procedure's to judge (agent/route.py); one with a word
    of its own is searched."""
    assert about_the_question(message, ask) is about


@pytest.mark.parametrize(
    ("message", "value"),
    [("3348917502", "3348917502"), ("334-891-7502", "3348917502"),
     ("order #3348 917 502 please", "3348917502"), ("no 33489", None),
     ("I ordered 2 items on 12 3 2024", None), ("3348917502 and 12", "3348917502")],
)  # fmt: skip
def test_an_order_number_is_read_with_spaces_or_dashes_between_its_digits(
    message: str, value: str | None
) -> None:
    """Session 48: an order_id slot reads the message without them when it finds no number
    as typed; a regex slot (a PIN, an address) reads only what was typed."""
    assert Validation(kind="order_id", pattern=r"\b(\d{10})\b").extract(message) == value
    assert Validation(kind="regex", pattern=r"\b(\d{4})\b").extract("12 34") is None
