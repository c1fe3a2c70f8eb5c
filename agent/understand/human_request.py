"""Explicit requests for a human, in English, French, German, Spanish, Italian, Portuguese, Dutch.

An explicit request always hands off, so this favours recall: a request verb ("talk",
"parler", "sprechen", "hablar", ...) within a few words of a person noun ("someone", "agent",
"conseiller", "Mitarbeiter", "asesor", ...) in either order (German and Dutch put the verb
last) fires; a verb of wanting ("want", "quiero", "ich möchte") fires only before a noun
for service staff ("agent", "human", not "person"). So does a service noun alone in a short
message ("agent please") and a phrase that only means a person ("real person"). Text is
folded first: lower case, accents stripped, apostrophes and punctuation to spaces. Spans that
name a person without asking for one ("human resources", "the agent told me") are blanked
before matching. Negated requests ("I don't want a human") still fire: handing off is the
safe mistake.
"""

from __future__ import annotations

import re
import unicodedata

from agent.understand.records import Prediction

HUMAN, NONE = "human", "none"
WINDOW = 5  # words allowed between the verb and the person noun

_TALK = (  # verbs of getting in touch: any person noun after them counts
    r"talk|speak|chat|connect|transfer|put me through|reach|contact|escalate|"
    r"parler|discuter|joindre|contacter|passer|transferer|mettre en relation|"
    r"sprechen|reden|verbinden|verbunden|durchstellen|chatten|kontaktieren|erreichen|"
    r"hablar|comunicarme|contactar|pasar|pasarme|transferir|conectar|"
    r"parlare|contattare|passarmi|trasferire|"
    r"falar|conversar|"
    r"spreken|praten|doorverbinden|bellen"
)
_WANT = (  # verbs of wanting: only a service-person noun after them counts
    r"want|need|get|give me|request|ask for|is there|are there|"
    r"veux|voudrais|souhaite|aimerais|besoin|avoir|"
    r"will|mochte|brauche|hatte gern|hatte gerne|"
    r"quiero|necesito|quisiera|"
    r"voglio|vorrei|"
    r"quero|preciso|gostaria|"
    r"wil|wil graag"
)
_AGENTS = (  # nouns that mean someone who serves customers
    r"human|humans|human being|agent|agents|representative|rep|operator|supervisor|advisor|"
    r"adviser|customer service|live support|"
    r"humain|etre humain|conseiller|conseillere|operateur|operatrice|interlocuteur|"
    r"service client|"
    r"mensch|menschen|mitarbeiter|mitarbeiterin|mitarbeitenden|berater|beraterin|"
    r"kundendienst|kundenservice|"
    r"humano|ser humano|agente|asesor|asesora|operador|operadora|representante|ejecutivo|"
    r"umano|essere umano|operatore|consulente|addetto|"
    r"atendente|consultor|"
    r"medewerker"
)
_PERSONS = (  # any person: after a verb of getting in touch
    _AGENTS + r"|person|someone|somebody|staff|employee|manager|support team|"
    r"une personne|quelqu un|responsable|jemandem|jemanden|jemand|persona|alguien|"
    r"qualcuno|pessoa|alguem|assistente|mens|persoon|iemand"
)
# Phrases that on their own mean "a person, not a bot".
_STRONG = (
    r"real person|real human|actual person|actual human|live agent|live person|human agent|"
    r"human being|vraie personne|etre humain|vrai humain|echten menschen|echter mensch|"
    r"echte person|persona real|ser humano|persona de verdad|essere umano|persona reale|"
    r"pessoa real|ser humano|echt persoon|echte mens|echt mens"
)
# Mentions of a person that are not requests for one; blanked before matching.
_NOT_REQUESTS = (
    r"human (resources|rights|error|nature|body|trafficking)|hr department|"
    r"ressources humaines|recursos humanos|risorse umane|"
    r"(the|your|an|a|my|that|this) "
    r"(agent|representative|rep|operator|advisor|person|employee|staff) "
    r"(told|said|says|was|is|gave|sent|hung|did|didn t|has|had|promised|asked|explained)|"
    r"(agent|representative|operator|employee) (told|said) me|"
    r"(agent|travel agent|estate agent|real estate agent) (fee|fees|number|code|id)"
)
_GAP = rf"(?:\s+\S+){{0,{WINDOW}}}?\s+"
_REQUEST = re.compile(
    rf"\b(?:{_TALK}){_GAP}(?:{_PERSONS})\b|\b(?:{_PERSONS}){_GAP}(?:{_TALK})\b"
    rf"|\b(?:{_WANT}){_GAP}(?:{_AGENTS})\b"  # not reversed: "the agent will call"
)
_AGENT = re.compile(rf"\b(?:{_AGENTS})\b")
_PERSON = re.compile(rf"\b(?:{_PERSONS})\b")
_STRONG_RE = re.compile(rf"\b(?:{_STRONG})\b")
_EXCLUDE = re.compile(rf"\b(?:{_NOT_REQUESTS})\b")
_SHORT = 4  # words: "agent please", "humain svp", "operatore per favore"


def detect_human_request(text: str) -> Prediction:
    """Label "human" when the message asks for a person, else "none".

    >>> detect_human_request("je veux parler à un conseiller").label
    'human'
    """
    folded = _EXCLUDE.sub(" ", _fold(text))
    match = _REQUEST.search(folded)
    if match:
        return Prediction(HUMAN, 0.95, {"rule": "verb + person", "matched": match.group(0)})
    strong = _STRONG_RE.search(folded)
    if strong:
        return Prediction(HUMAN, 0.9, {"rule": "person phrase", "matched": strong.group(0)})
    agent = _AGENT.search(folded)
    if agent and len(folded.split()) <= _SHORT:
        return Prediction(HUMAN, 0.85, {"rule": "short message", "matched": agent.group(0)})
    person = _PERSON.search(folded)
    if person:
        return Prediction(
            NONE, 0.7, {"rule": "person mentioned, no request", "matched": person.group(0)}
        )
    return Prediction(NONE, 0.95, {"rule": "no person mentioned"})


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.lower())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^\w\s]|_", " ", plain).split())
