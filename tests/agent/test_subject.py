"""agent/understand/subject.py: which messages change the subject (searched without the
earlier turns) and which lean on them (searched with them), rule by rule."""

from __future__ import annotations

import pytest

from agent.understand.subject import _lists, read_subject
from knowledge.query import Turn

ASKED = (
    Turn("user", "What payment methods do you accept?"),
    Turn("assistant", "We accept Visa, Mastercard and PayPal."),
)


@pytest.mark.parametrize(
    "message",
    [
        "What's your phone number?",
        "What are your opening hours on weekends?",
        "How can I define currency?",
        "Tax rate for LLC",
        "Who were the allies in World War II?",
    ],
)
def test_a_question_naming_its_own_subject_is_a_new_subject(message: str) -> None:
    reading = read_subject(message, ASKED, "en")
    assert reading.new, reading
    assert reading.reason.startswith("names its own subject ("), reading


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        ("How much does it cost?", "refers back ('it')"),
        ("When did they arrive in Plymouth?", "refers back ('they')"),
        ("Is there a fee for cards?", "refers back ('there')"),
        ("Which is more important?", "refers back ('which')"),
        ("And for international orders?", "continues the last turn ('and')"),
        ("What about fees for bank transfers?", "continues the last turn ('what about')"),
        ("If I live in Spain?", "continues the last turn ('if')"),
        ("Or installment easier?", "fewer than 4 words"),
        ("Major characters", "fewer than 4 words"),
        ("Can you tell me more?", "names no subject of its own"),
    ],
)
def test_a_follow_up_keeps_the_earlier_turns(message: str, reason: str) -> None:
    reading = read_subject(message, ASKED, "en")
    assert not reading.new, reading
    assert reading.reason == reason


def test_a_first_question_has_nothing_to_set_aside() -> None:
    only_assistant = (Turn("assistant", "Hello! How can I help?"),)
    for history in ((), only_assistant, (Turn("user", "   "),)):
        reading = read_subject("What's your phone number?", history, "en")
        assert (reading.new, reading.reason) == (False, "no earlier turn")


@pytest.mark.parametrize(
    "message", ["Und wie lange dauert der Versand?", "Et combien coûte la livraison express ?"]
)
def test_another_language_keeps_the_earlier_turns(message: str) -> None:
    """The word lists are English: a German or French follow-up has no English referring
    word, so it could not be told from a new subject."""
    reading = read_subject(message, ASKED, "de")
    assert (reading.new, reading.reason) == (False, "language 'de': the word lists are English")


def test_short_english_the_detector_misreads_is_still_read() -> None:
    """langdetect calls "Is it free on weekends too?" Afrikaans (0.86)."""
    misread = read_subject("Is it free on weekends too?", ASKED, "af")
    assert misread.reason == "refers back ('it')"
    assert read_subject("Is insurance more expensive?", ASKED, "fr").new


def test_a_typographic_apostrophe_reads_as_a_straight_one() -> None:
    reading = read_subject("Why don\u2019t my cards work online?", ASKED, "en")
    assert reading.reason == "names its own subject (cards, work, online)", reading


def test_the_shipped_word_lists_hold_words_only() -> None:
    lists = _lists()
    assert {"it", "they", "there", "which"} <= lists.referring
    assert "what about" in lists.continuing and "no" in lists.continuing  # quoted in YAML
    assert {"on", "yes", "no"} <= lists.empty  # YAML would read them as booleans unquoted


KNOWLEDGE = {"payment", "methods", "accept", "visa", "refund", "shipping", "price"}


def _absent(words: object) -> list[str]:
    return [w for w in words if w not in KNOWLEDGE]  # type: ignore[attr-defined]


def test_one_word_the_knowledge_and_conversation_lack_is_a_new_subject() -> None:
    reading = read_subject("Who is your CEO?", ASKED, "en", _absent)
    assert reading.new, reading
    assert reading.reason == "names what nothing here holds (ceo)", reading


@pytest.mark.parametrize(
    "message",
    [
        "What is the price?",  # the knowledge holds it: it may be the price of what was asked
        "Do you have Mastercard?",  # the conversation holds it
    ],
)
def test_one_word_the_knowledge_or_conversation_holds_keeps_the_earlier_turns(
    message: str,
) -> None:
    reading = read_subject(message, ASKED, "en", _absent)
    assert not reading.new, reading
    assert reading.reason == "names no subject of its own", reading


def test_without_a_lookup_one_subject_word_keeps_the_earlier_turns() -> None:
    assert not read_subject("Who is your CEO?", ASKED, "en").new


@pytest.mark.parametrize(
    "message",
    ["3348917502", "cminh730@email.com", "+1 555 0100", "2024-06-04", " 3348917502. "],
)
def test_a_message_of_values_alone_is_no_follow_up(message: str) -> None:
    """Session 44: "3348917502" after "What's your returns policy?" was searched with that
    question and answered it again, from other passages, at confidence 0.93."""
    reading = read_subject(message, ASKED, "xx")
    assert reading.new and reading.reason.startswith("holds only a value"), reading


@pytest.mark.parametrize("message", ["and 2024?", "10 days?", "why?"])
def test_a_short_follow_up_with_a_word_keeps_the_earlier_turns(message: str) -> None:
    assert not read_subject(message, ASKED, "en").new
