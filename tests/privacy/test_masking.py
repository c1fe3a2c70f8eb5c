"""Masking before external models uses the injected detector (agent.llm.masking.SpanDetector)."""

from __future__ import annotations

from agent.llm.chat import ChatMessage
from agent.llm.masking import MaskingChatModel, PiiMasker, SpanDetector
from agent.llm.testing import ScriptedChatModel
from privacy.detect import PiiDetector

ADDRESS = "1428 Elm Street, Springfield"
MESSAGE = f"Hi, I'm Ana Silva. Please send the replacement to {ADDRESS}."


def test_the_detector_satisfies_the_masking_protocol(detector: PiiDetector) -> None:
    seam: SpanDetector = detector
    assert seam.detect("bo@example.org")


def test_street_addresses_are_masked_only_with_the_detector(detector: PiiDetector) -> None:
    masked, mapping = PiiMasker(detector=detector).mask(MESSAGE)
    assert "Elm Street" not in masked and "Ana Silva" not in masked
    assert "<ADDRESS_1>" in masked and "<PERSON_1>" in masked
    assert dict(mapping.items())["<ADDRESS_1>"] == ADDRESS
    # The built-in rules (the fallback) know no street addresses.
    fallback, _ = PiiMasker(detect_names=False).mask(MESSAGE)
    assert "Elm Street" in fallback


def test_chat_model_sees_placeholders_and_the_reply_is_restored(detector: PiiDetector) -> None:
    inner = ScriptedChatModel(lambda messages: "We will ship to <ADDRESS_1>, <PERSON_1>.")
    chat = MaskingChatModel(inner, PiiMasker(detector=detector))
    reply = chat.complete([ChatMessage("user", MESSAGE)])
    sent = " ".join(m.content for m in inner.calls[0])
    assert "Elm Street" not in sent and "Ana Silva" not in sent and "<ADDRESS_1>" in sent
    assert reply == f"We will ship to {ADDRESS}, Ana Silva."


def test_places_and_dates_are_left_for_the_model(detector: PiiDetector) -> None:
    text = "Does the Lisbon store open on 3 May 2026?"
    masked, mapping = PiiMasker(detector=detector).mask(text)
    assert masked == text and len(mapping) == 0


def test_a_literal_placeholder_in_the_text_is_never_masked_again(detector: PiiDetector) -> None:
    text = "Last time you wrote <PERSON_1>; my name is Ana Silva."
    masked, mapping = PiiMasker(detector=detector).mask(text)
    assert masked.startswith("Last time you wrote <PERSON_1>;")
    assert "Ana Silva" not in masked and dict(mapping.items()).get("<PERSON_1>") is None
