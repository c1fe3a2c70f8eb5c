"""detect_language: ISO codes from langdetect, honest about very short messages."""

from __future__ import annotations

import pytest

from agent.understand.language import detect_language


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Where is my order? It was supposed to arrive yesterday.", "en"),
        ("Où est ma commande ? Elle devait arriver hier.", "fr"),
        ("Wo ist meine Bestellung? Sie sollte gestern ankommen.", "de"),
        ("¿Dónde está mi pedido? Debía llegar ayer.", "es"),
        ("Dov'è il mio ordine? Doveva arrivare ieri.", "it"),
        ("Onde está a minha encomenda? Devia ter chegado ontem.", "pt"),
    ],
)
def test_sentences_get_their_language_with_high_confidence(text: str, code: str) -> None:
    prediction = detect_language(text)
    assert prediction.label == code
    assert prediction.confidence > 0.9


def test_same_text_same_answer() -> None:
    text = "Je voudrais changer mon adresse de livraison"
    assert detect_language(text) == detect_language(text)


@pytest.mark.parametrize(("text", "code"), [("merci", "fr"), ("danke", "de"), ("hola", "es")])
def test_one_courtesy_word_is_recognised_but_not_with_certainty(text: str, code: str) -> None:
    prediction = detect_language(text)
    assert prediction.label == code
    assert prediction.confidence <= 0.7


def test_short_text_is_never_confident_and_falls_back_to_the_default() -> None:
    ok = detect_language("ok")  # langdetect alone says Slovak at 0.99
    assert ok.label == "en" and ok.confidence <= 0.7
    assert detect_language("Bestellung").confidence < 0.5
    nothing = detect_language("?? 123", default="fr")
    assert nothing.label == "fr" and nothing.confidence == 0.0


@pytest.mark.parametrize(
    "text",
    [
        "How long does delivery take?",  # langdetect alone: Afrikaans at 0.99
        "Is insurance more expensive?",  # French at 0.99
        "Am I eligible for Gift Aid?",  # Danish at 0.99
        "Do i need VAT registration?",  # Italian at 0.99
    ],
)
def test_a_short_english_question_is_not_confidently_another_language(text: str) -> None:
    prediction = detect_language(text)
    assert prediction.label == "en" or prediction.confidence < 0.8, prediction


def test_when_the_detectors_disagree_the_language_is_uncertain() -> None:
    prediction = detect_language("Quanto custa o envio?")  # langdetect: es; langid: pt
    assert prediction.confidence < 0.8
    assert prediction.detail["method"] == "they disagree", prediction
    assert prediction.label in {"es", "pt"}, prediction


@pytest.mark.parametrize(
    "text",
    ["12 Oak Street, Springfield, IL 62701", "Apt 4B, 310 Maple Avenue, Denver"],
)  # both detectors agreed: Afrikaans at 0.86, French at 0.86 (session 37)
def test_an_address_is_not_confidently_another_language(text: str) -> None:
    prediction = detect_language(text)
    assert prediction.confidence < 0.8, prediction
    assert prediction.detail["method"] == "they disagree", prediction
