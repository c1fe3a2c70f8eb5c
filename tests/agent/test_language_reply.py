"""A message in another language than the passages (agent.answer.language_reply): the line
that says which language the agent answers in, and the earlier turns a message is searched
with, without those in another language."""

from __future__ import annotations

from agent.answer.language_reply import language_mismatch, same_language
from agent.understand.language import detect_language
from knowledge.query import Turn
from knowledge.records import Chunk, ScoredChunk

ENGLISH = [
    "Standard shipping takes 3 to 5 working days within the United States. Overnight "
    "shipping arrives the next working day when you order before 2:00 pm.",
    "Standard shipping is $8.00 per order. Orders over $100 ship free with standard shipping.",
]
SURE_ENGLISH = "Can you tell me how long the standard delivery takes for my parcel?"
FRENCH = [
    "La livraison standard prend de 3 à 5 jours ouvrables en France métropolitaine. La "
    "livraison express arrive le lendemain si vous commandez avant 14 heures.",
]


def chunks(texts: list[str]) -> list[ScoredChunk]:
    return [ScoredChunk(Chunk("help.md", 1, i, t), 0.5, "help") for i, t in enumerate(texts)]


def test_a_german_question_about_english_passages_is_told_in_both_languages() -> None:
    found = language_mismatch(detect_language("Wie lange dauert der Versand?"), chunks(ENGLISH))
    assert found is not None
    assert found.line.startswith("Entschuldigung, ich kann nur auf Englisch antworten.")
    assert found.line.endswith(
        "Sorry, I can only answer in English. Please write your question in English, or ask "
        "for a member of our team."
    )
    assert "'de'" in found.reason and "'en'" in found.reason


def test_the_knowledges_language_is_named_whatever_it_is() -> None:
    question = detect_language(SURE_ENGLISH)
    found = language_mismatch(question, chunks(FRENCH))
    assert found is not None
    assert found.line == (
        "Sorry, I can only answer in French. Please write your question in French, or ask for "
        "a member of our team."
    )


def test_no_line_in_the_same_language_or_when_the_message_is_unsure() -> None:
    english = detect_language(SURE_ENGLISH)
    assert english.confidence >= 0.8
    assert language_mismatch(english, chunks(ENGLISH)) is None
    assert language_mismatch(detect_language("ok"), chunks(FRENCH)) is None  # one word: unsure
    assert language_mismatch(detect_language("Wie lange dauert der Versand?"), []) is None


def test_earlier_turns_in_another_language_are_left_out_with_their_replies() -> None:
    spanish = Turn("user", "¿Cuánto cuesta el envío a Canadá?")
    line = Turn("assistant", "Sorry, I can only answer in English.")
    asked = Turn("user", "How long does shipping take to Canada?")
    answer = Turn("assistant", "Shipping to Canada takes 7 to 10 working days.")
    english = detect_language("And how much does it cost to ship there?")
    assert same_language((spanish, line, asked, answer), english) == (asked, answer)
    unsure = detect_language("cost?")
    assert same_language((spanish, line), unsure) == (spanish, line)
