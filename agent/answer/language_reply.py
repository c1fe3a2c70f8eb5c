"""A message in another language than the knowledge: the agent says which language it can
answer in, instead of "I couldn't find anything about that. Could you put it another way?"
in a language the end user may not read.

The knowledge is quoted as written, and the models that read it were trained on English, so
a question in German about English passages is rarely answered. When the knowledge did not
answer, the message is surely in one language (agent.understand.language: both detectors
agree, at `SURE` or more) and the passages found are surely in another (the same detector on
their text), the reply says so in the passages' language, after the same line in the
message's language where `IN_ENGLISH` has it. It counts as the turn's clarifying question:
a second such message is handed off, as any second clarifying question is, to a person who
may read it.

The earlier turns a message is searched with leave out those surely in another language
(`same_language`): after the line above, "How much is shipping?" was searched with the
Spanish question and the line, and handed off.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from agent.understand.language import SURE, detect_language
from agent.understand.records import Prediction
from knowledge.query import Turn, without_exchanges
from knowledge.records import ScoredChunk

PASSAGES = 3  # the top passages whose language is the knowledge's
NAMES = {
    "en": "English", "fr": "French", "de": "German", "es": "Spanish", "it": "Italian",
    "pt": "Portuguese", "nl": "Dutch",
}  # fmt: skip
# The English line, in the message's language, for knowledge written in English.
IN_ENGLISH = {
    "de": "Entschuldigung, ich kann nur auf Englisch antworten. Bitte schreiben Sie Ihre Frage "
    "auf Englisch, oder fragen Sie nach einem Mitarbeiter unseres Teams.",
    "fr": "Désolé, je ne peux répondre qu'en anglais. Veuillez écrire votre question en "
    "anglais, ou demandez à parler à un membre de notre équipe.",
    "es": "Lo siento, solo puedo responder en inglés. Escriba su pregunta en inglés, o pida "
    "hablar con un miembro de nuestro equipo.",
    "it": "Mi dispiace, posso rispondere solo in inglese. Scriva la sua domanda in inglese, "
    "oppure chieda di parlare con un membro del nostro team.",
    "pt": "Desculpe, só posso responder em inglês. Escreva a sua pergunta em inglês, ou peça "
    "para falar com um membro da nossa equipa.",
    "nl": "Sorry, ik kan alleen in het Engels antwoorden. Schrijf uw vraag in het Engels, of "
    "vraag naar een medewerker van ons team.",
}


@dataclass(frozen=True)
class LanguageMismatch:
    line: str  # the reply
    reason: str  # for the trace


def language_mismatch(
    message: Prediction, chunks: Sequence[ScoredChunk]
) -> LanguageMismatch | None:
    """The reply to a message in another language than the passages found, or None."""
    if message.confidence < SURE or not chunks:
        return None
    knowledge = detect_language(" ".join(c.chunk.text for c in chunks[:PASSAGES]))
    if knowledge.confidence < SURE or knowledge.label == message.label:
        return None
    name = NAMES.get(knowledge.label, f"'{knowledge.label}'")
    line = (
        f"Sorry, I can only answer in {name}. Please write your question in {name}, or ask "
        "for a member of our team."
    )
    if knowledge.label == "en" and message.label in IN_ENGLISH:
        line = f"{IN_ENGLISH[message.label]} {line}"
    reason = (
        f"the message is in '{message.label}' ({message.confidence:.2f}), the passages found "
        f"in '{knowledge.label}' ({knowledge.confidence:.2f}): ask for a question in {name}"
    )
    return LanguageMismatch(line, reason)


def same_language(history: tuple[Turn, ...], message: Prediction) -> tuple[Turn, ...]:
    """The earlier turns without the end user's turns surely in another language than the
    message (which must be sure of its own) and the agent's replies to them."""
    if message.confidence < SURE:
        return history

    def elsewhere(text: str, _earlier: tuple[Turn, ...]) -> bool:
        found = _language_of(text)
        return found.confidence >= SURE and found.label != message.label

    return without_exchanges(history, elsewhere)


# Every turn reads the whole conversation again; an earlier turn's language is read once.
_language_of = lru_cache(maxsize=4096)(detect_language)
