"""Small talk (agent.understand.small_talk): a message made only of greetings, thanks,
acknowledgements or goodbyes (and filler words) is small talk of the kind that ends the
conversation most; any other word makes it a message like any other. The conversation a
question is searched with leaves small talk out and starts after the last goodbye. A bare
yes or no is not small talk, but gets a line of its own where it answers no question."""

from __future__ import annotations

import pytest

from agent.answer.clarify import NONE_OF_THEM, OPENING
from agent.understand.small_talk import (
    ANYTHING_ELSE,
    GOODBYE,
    MAX_WORDS,
    NOT_HELPED,
    SORRY,
    WHAT_ELSE,
    conversation_so_far,
    detect_small_talk,
    reply_line,
    yes_no_line,
    yes_or_no,
)
from knowledge.query import Turn


@pytest.mark.parametrize(
    ("message", "kind"),
    [
        ("hi", "greeting"),
        ("Hi there!", "greeting"),
        ("Good morning! I have a question", "greeting"),
        ("hello, need help", "greeting"),
        ("thanks!", "thanks"),
        ("Thank you so much for your help", "thanks"),
        ("That is fine. Thank you!", "thanks"),  # an mtrag_dev conversation's turn
        ("cheers mate", "thanks"),
        ("ok", "acknowledgement"),
        ("Got it, sounds good", "acknowledgement"),
        ("ok thanks, bye", "goodbye"),
        ("That\u2019s all, thank you", "goodbye"),
        ("no thanks", "goodbye"),
        ("Am I talking to a bot?", "identity"),
        ("hi, who are you?", "identity"),  # asks something: not only a greeting
        ("What can you do?", "identity"),
        # whether the agent is a person: the words the human-request detector reads
        ("Is this a real person?", "identity"),
        ("Are you human?", "identity"),
        ("Am I talking to a human?", "identity"),
        ("am i chatting with a real person or a machine", "identity"),
        ("Are you an AI or a human?", "identity"),
        ("Is it a live person?", "identity"),
        ("Is this a real human I'm talking to?", "identity"),
        ("r u human", "identity"),
        ("Is this an automated chat?", "identity"),
        ("What AI model are you?", "identity"),
        ("Buenos días", "greeting"),  # accents folded; the line is English
        ("Muchas gracias!", "thanks"),
        ("Tschüss!", "goodbye"),
        ("?", "nothing"),
        ("\U0001f44d", "nothing"),
        ("That's not what I asked", "not_helped"),
        ("No, that doesn't help", "not_helped"),
        ("ok, not helpful", "not_helped"),  # not an acknowledgement
        ("hmm, that's not what I asked", "not_helped"),  # a hesitation is filler
        ("um thanks", "thanks"),
        ("that doesn't help, bye", "goodbye"),
    ],
)
def test_small_talk_is_recognised_by_kind(message: str, kind: str) -> None:
    found = detect_small_talk(message)
    assert found.label == kind, found
    assert found.detail.get("phrases") or kind == "nothing"


@pytest.mark.parametrize(
    "message",
    [
        "hi, where is my order?",
        "thanks, and what about returns?",
        "How long does shipping take?",
        "ok so how much is shipping",
        "yes",  # answers a question the agent asked
        "no",
        "What can you do about my refund?",
        "Can I talk to a real person?",  # asks for one: handed off
        "Are you open on Sundays?",
        "Is this a scam?",
        "is it",  # filler words only
        "hmm",
        "2",  # may pick an option the agent named
        "Hallo, ich habe eine Frage",  # a question in German: the language line answers it
        "\u8fd0\u8d39\u591a\u5c11",  # not English: the knowledge route says so
        "thanks " * MAX_WORDS + "thanks",  # too long to be small talk
    ],
)
def test_anything_more_is_not_small_talk(message: str) -> None:
    assert detect_small_talk(message).label == "none"


def test_the_lines_say_what_the_agent_is_and_stay_short_while_a_procedure_waits() -> None:
    disclosure = "You are chatting with an AI assistant."
    assert reply_line("greeting", disclosure) == (
        "Hello! You are chatting with an AI assistant. What can I help you with?"
    )
    assert reply_line("thanks", disclosure).startswith("You're welcome.")
    assert reply_line("goodbye", disclosure).endswith("Goodbye!")
    assert reply_line("thanks", disclosure, waiting=True) == "You're welcome."
    assert reply_line("acknowledgement", disclosure, waiting=True) == ""
    assert reply_line("identity", disclosure, requests=["Reset a password"]) == (
        "You are chatting with an AI assistant. I can also carry out these requests: Reset a "
        "password. What can I help you with?"
    )
    assert reply_line("identity", disclosure, waiting=True) == disclosure
    many = reply_line("identity", disclosure, requests=[f"Request {n}" for n in range(1, 12)])
    assert "Request 8; and 3 more." in many and "Request 9" not in many
    assert reply_line("nothing", disclosure) == "What can I help you with?"
    assert reply_line("not_helped", disclosure) == NOT_HELPED
    assert NOT_HELPED.startswith(SORRY) and "member of our team" in NOT_HELPED
    assert reply_line("not_helped", disclosure, waiting=True) == SORRY


def test_the_conversation_searched_with_leaves_small_talk_out_and_starts_after_a_goodbye() -> None:
    asked = Turn("user", "How long does shipping take?")
    answer = Turn("assistant", "Standard shipping takes 3 to 5 working days.")
    thanks = [Turn("user", "thanks!"), Turn("assistant", "You're welcome.")]
    assert conversation_so_far((asked, answer, *thanks)) == (asked, answer)
    goodbye = [Turn("user", "ok bye"), Turn("assistant", "Thank you for contacting us.")]
    later = Turn("user", "Do you ship to Canada?")
    assert conversation_so_far((asked, answer, *goodbye, later)) == (later,)
    stopped = [Turn("user", "Forget it, bye"), Turn("assistant", "I've stopped it. Goodbye!")]
    assert conversation_so_far((asked, answer, *stopped, later)) == (later,)
    assert conversation_so_far((asked, answer, Turn("user", "Forget it"), later))[0] == asked


@pytest.mark.parametrize(
    ("message", "answer"),
    [
        ("yes", "yes"),
        ("Yes please!", "yes"),
        ("yeah", "yes"),
        ("no", "no"),
        ("No.", "no"),
        ("nope", "no"),
        ("no, not really", "no"),
        ("No, there isn't", "no"),
        ("yes no", None),  # both is neither
        ("yes, where is my order?", None),
        ("no thanks", None),  # a goodbye (small talk), not a bare no
        ("no 33489", None),  # a value
        ("ok", None),
        ("", None),
    ],
)
def test_a_bare_yes_or_no(message: str, answer: str | None) -> None:
    assert yes_or_no(message) == answer
    if answer is not None:
        assert detect_small_talk(message).label == "none"  # not small talk by itself


def test_a_yes_or_no_gets_a_line_only_where_it_answers_no_question() -> None:
    asked = Turn("user", "How much is shipping?")
    answer = Turn("assistant", "Standard shipping is $8.00 per order.")
    offer = Turn("assistant", f"You're welcome. {ANYTHING_ELSE}")
    thanks = Turn("user", "thanks")
    after_offer = (asked, answer, thanks, offer)
    assert yes_no_line("no", after_offer) == (
        GOODBYE,
        f"'no' to '{ANYTHING_ELSE}': a line of its own",
    )
    assert getattr(yes_no_line("yes please", after_offer), "text", None) == WHAT_ELSE
    assert getattr(yes_no_line("no", (asked, answer)), "text", None) == ANYTHING_ELSE
    clarify = Turn("assistant", 'Do you mean "Delivery times"?')
    assert yes_no_line("yes", (asked, clarify)) is None  # it answers that question
    which = Turn("assistant", f'{OPENING} Do you mean "Shipping costs" or "Delivery times"?')
    assert getattr(yes_no_line("yes", (asked, which)), "text", None) == (
        'Which one do you mean: "Shipping costs" or "Delivery times"?'
    )
    assert getattr(yes_no_line("no", (asked, which)), "text", None) == NONE_OF_THEM
    one = Turn("assistant", f'{OPENING} Do you mean "Shipping costs"?')  # no choice to make
    assert yes_no_line("yes", (asked, one)) is None
    confirm = Turn("assistant", "Shall I send the reset link to c@example.com?")
    assert yes_no_line("no", (asked, confirm)) is None
    assert yes_no_line("no", ()) is None  # nothing was said before
    assert yes_no_line("ok", (asked, answer)) is None  # small talk has its own rule


def test_the_conversation_searched_with_leaves_a_yes_or_no_line_out_and_ends_at_a_goodbye() -> None:
    asked = Turn("user", "How much is shipping?")
    answer = Turn("assistant", "Standard shipping is $8.00 per order.")
    no = [Turn("user", "no"), Turn("assistant", ANYTHING_ELSE)]
    assert conversation_so_far((asked, answer, *no)) == (asked, answer)
    clarify = Turn("assistant", 'Do you mean "Delivery times"?')
    yes = Turn("user", "yes")
    times = Turn("assistant", "Standard shipping takes 3 to 5 working days.")
    assert conversation_so_far((asked, clarify, yes, times)) == (asked, clarify, yes, times)
    which = Turn("assistant", f'{OPENING} Do you mean "Shipping costs" or "Delivery times"?')
    asked_which = [yes, Turn("assistant", 'Which one do you mean: "Shipping costs" or ...?')]
    assert conversation_so_far((asked, which, *asked_which)) == (asked, which)
    offer = [Turn("user", "thanks"), Turn("assistant", f"You're welcome. {ANYTHING_ELSE}")]
    goodbye = [Turn("user", "no"), Turn("assistant", GOODBYE)]
    later = Turn("user", "Do you ship to Canada?")
    assert conversation_so_far((asked, answer, *offer, *goodbye, later)) == (later,)
