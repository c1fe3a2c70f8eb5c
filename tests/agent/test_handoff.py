"""detect_human_request: explicit requests for a person in seven languages, and near misses."""

from __future__ import annotations

import pytest

from agent.understand.human_request import detect_human_request

REQUESTS = [
    # en
    "talk to a human",
    "I want to speak to a real person",
    "agent please",
    "can I talk to someone",
    "Can I speak with a representative please",
    "REPRESENTATIVE",
    "get me a human now",
    "the agent told me to ask for a supervisor",
    "Is there a human I can chat with?",
    # a verb of wanting and a person noun that ends the sentence (session 48)
    "I want a person.",
    "It's been two weeks, this is ridiculous. I want a person.",
    "I need someone now",
    "Let me speak to your boss",
    "I would like to escalate this",
    "transfer me",
    # fr
    "parler à un humain",
    "je veux parler à un conseiller",
    "Je voudrais parler à quelqu'un",
    "PARLER A UN CONSEILLER SVP",
    # de
    "mit einem Menschen sprechen",
    "ich möchte mit einem Mitarbeiter sprechen",
    "Verbinden Sie mich bitte mit einem Berater",
    "Kann ich mit jemandem sprechen?",
    # es
    "hablar con una persona",
    "quiero hablar con un agente",
    "¿Puedo hablar con un asesor?",
    # it
    "Vorrei parlare con un operatore",
    "posso parlare con una persona?",
    # pt
    "quero falar com um atendente",
    "Gostaria de falar com uma pessoa",
    # nl
    "ik wil een medewerker spreken",
    "Kan ik iemand spreken?",
]
NOT_REQUESTS = [
    "how do I contact a human resources department",
    "the agent told me my refund was on the way",
    "I spoke to an agent yesterday and he said it was fixed",
    "where is my order",
    "How do I add another person to my account?",
    "Someone used my card without permission",
    "I need my password manager reset",
    "personne ne m'a répondu",
    "Le conseiller m'a dit d'attendre",
    "the agent will call me back tomorrow",
    "I want the mens shoes in size 10",
    "I need someone to sign for my parcel",
    "Does the delivery need a person to sign for it?",
    "Who is your boss?",
    "My order escalated into a mess",
]


@pytest.mark.parametrize("text", REQUESTS)
def test_explicit_requests_hand_off(text: str) -> None:
    prediction = detect_human_request(text)
    assert prediction.label == "human", prediction.detail
    assert prediction.confidence >= 0.85
    assert prediction.detail["matched"]


@pytest.mark.parametrize("text", NOT_REQUESTS)
def test_mentions_of_people_that_ask_for_nobody_do_not(text: str) -> None:
    prediction = detect_human_request(text)
    assert prediction.label == "none", prediction.detail


def test_accents_and_case_do_not_matter() -> None:
    plain = detect_human_request("je veux parler a un etre humain")
    accented = detect_human_request("JE VEUX PARLER À UN ÊTRE HUMAIN")
    assert plain.label == accented.label == "human"
