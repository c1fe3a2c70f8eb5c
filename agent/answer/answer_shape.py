"""Shaping an extractive answer so it reads well: which quoted sentences are not answers
(headings, navigation, lines meant for the agent, questions) and the short answer a passage
gives.

- heading: a sentence that repeats a part of its chunk's section path, a Markdown heading,
  or a short title-case line without a full stop, digits or a colon; a document's first
  line when it reads as a title (`is_title_line`); and (agent/answer/compose.py) any line
  that only repeats its document's title, in whatever case;
- navigation: a sentence that is a navigation phrase (answer_words.yaml), or a trail of
  three or more items joined by ">", "|", "»" or "/" without a closing full stop;
- agent-internal: an instruction (it opens with an instruction word, or holds "feel free",
  "make up", ... anywhere) that names the agent's own world: the system, the tool, "the
  customer" in the third person, invented values (answer_words.yaml); a line that opens with
  an agent's verb and names the customer in the third person ("Verify the identity of the
  customer."); and a line that says what the customer wants ("so the customer wants
  to..."). Help pages speak to the reader as "you" about their account; lines written for
  the agent speak about the customer and the tool;
- in a document written for the agent (knowledge.audience, recorded on its chunks at
  ingestion), also every step or instruction, by its opening word ("Issue the refund.",
  "Ask for their phone number"), every line that names the customer or calls them "they",
  that calls the agent "you" ("You do not need to enter any information."), that names the
  agent's tool or world ("the “Update the order” step", "the internal team"), every
  lead-in ending with a colon or comma or joined to its first item ("If Guest or Bronze: –
  Then this is a customer error..."), every line that opens by pointing back at the step
  before it ("This only works for Gold members."), and every line that does not end as a
  sentence does (a step's option or item: "Full name - may have gotten this earlier",
  "Possible options are Jeans, Shirt, Boots and Jacket"): such a document is quoted for the
  facts it states ("Valid payment methods are credit card, debit card and PayPal.");
- about the document: a sentence that describes its own document ("This document sets out
  the policy for...", "This guide explains how to..."): a self-reference followed by a
  verb of description (answer_words.yaml);
- question: a sentence that ends with a question mark (an FAQ's list of questions, a
  forum post's rhetorical one) asks, it does not answer;
- short answer: for "how long" a duration, for "how much"/price/cost/fee an amount, for
  "when"/"what date" a date (else a duration), for "how many" a number, for a yes/no
  question a leading "Yes"/"No" of the best sentence; taken from the best sentence that
  has one, verbatim.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from agent.answer.lists import ends_a_sentence
from agent.understand.word_lists import lower_case_lists
from knowledge.audience import names_the_customer, words_of

WORDS = Path(__file__).with_name("answer_words.yaml")

_TRAIL = re.compile(r"\s(?:>|\||»|/)\s")
_NUMBER_WORDS = "one|two|three|four|five|six|seven|eight|nine|ten|twelve|fourteen|thirty"
_COUNT = rf"(?:\d+(?:[.,]\d+)?|{_NUMBER_WORDS})"
_DURATION = re.compile(
    rf"\b{_COUNT}(?:\s*(?:-|–|to)\s*{_COUNT})?\s+(?:business\s+|working\s+|calendar\s+)?"
    r"(?:minutes?|hours?|days?|weeks?|months?|years?)\b",
    re.IGNORECASE,
)
_AMOUNT = re.compile(
    r"[$€£]\s?\d[\d,]*(?:\.\d{1,2})?|\b\d[\d,]*(?:\.\d{1,2})?\s?(?:dollars|euros|pounds|usd|eur|gbp)\b",
    re.IGNORECASE,
)
_MONTHS = "january|february|march|april|may|june|july|august|september|october|november|december"
_DAYS = "monday|tuesday|wednesday|thursday|friday|saturday|sunday"
_DATE = re.compile(
    rf"\b(?:(?:{_MONTHS})\s+\d{{1,2}}(?:st|nd|rd|th)?(?:,?\s+\d{{4}})?|\d{{1,2}}(?:st|nd|rd|th)?"
    rf"\s+(?:{_MONTHS})(?:\s+\d{{4}})?|\d{{4}}-\d{{2}}-\d{{2}}|\d{{1,2}}/\d{{1,2}}/\d{{2,4}}|"
    rf"(?:{_DAYS}))\b",
    re.IGNORECASE,
)
_NUMBER = re.compile(rf"\b{_COUNT}\b", re.IGNORECASE)
_TITLE_LINE_WORDS = 12
_TITLE_WORDS = 8  # the longest title joined to a self-description that still counts
_CITING = {"as", "in", "of", "by", "under", "from", "to", "with", "see", "read", "and"}
_YES_NO = re.compile(r"^(yes|no)\b", re.IGNORECASE)
_AUXILIARIES = {
    "is", "are", "was", "were", "do", "does", "did", "can", "could", "will", "would",
    "should", "may", "must", "has", "have", "had",
}  # fmt: skip


@cache
def _lists() -> dict[str, tuple[str, ...]]:
    return {key: tuple(words) for key, words in lower_case_lists(WORDS).items()}


def _has(words: str, phrases: tuple[str, ...]) -> bool:
    return any(f" {p} " in words for p in phrases)


def is_heading(sentence: str, section: str = "") -> bool:
    text = sentence.strip()
    if text.startswith("#"):
        return True
    parts = {p.strip().casefold() for p in re.split(r">|/", section) if p.strip()}
    if text.rstrip(".:").casefold() in parts:
        return True
    words = text.split()
    if len(words) > 6 or re.search(r"[.!?:;,\d]", text):
        return False
    long_words = [w for w in words if len(w) >= 4]
    return bool(long_words) and all(w[0].isupper() for w in long_words)


def is_title_line(sentence: str) -> bool:
    """The first line of a document that reads as its title: at most `_TITLE_LINE_WORDS`
    words, no full stop, question or exclamation mark inside or at its end, and every
    longer word capitalised ("Northwind Outfitters - Store Contact and Support Hours",
    "Grenade (song)"). `is_heading` takes no line over six words, as a title-case name in
    a list can be an answer ("Indiana Jones and the Kingdom of the Crystal Skull"); as a
    document's first line it is the title."""
    text = sentence.strip()
    words = text.split()
    if len(words) > _TITLE_LINE_WORDS or re.search(r"[.!?](?:\s|$)|[:;,]$", text):
        return False
    long_words = [w for w in words if len(w) >= 4 and w[0].isalpha()]
    return bool(long_words) and all(w[0].isupper() for w in long_words)


def is_navigation(sentence: str) -> bool:
    text = sentence.strip()
    if len(_TRAIL.findall(f" {text} ")) >= 2 and not text.endswith((".", "!", "?")):
        return True
    return words_of(sentence).strip() in _lists()["navigation"]


def is_agent_internal(sentence: str) -> bool:
    lists, words = _lists(), words_of(sentence)
    opens = any(words.startswith(f" {p} ") for p in lists["instruction_start"])
    instruction = opens or _has(words, lists["instruction_anywhere"])
    if _has(words, lists["customer_request"]):
        return True
    if names_the_customer(words) and any(
        words.startswith(f" {v} ") for v in lists["customer_instruction_start"]
    ):
        return True
    return instruction and _has(words, lists["agent_world"])


def is_about_the_document(sentence: str) -> bool:
    """A self-reference followed by a verb of description, opening the sentence or after a
    title the parser joined to it ("Product Defect: Policy and Agent Procedures This
    document sets out...", from a PDF): starting within its first `_TITLE_WORDS` words, and
    not inside a phrase such as "as this guide explains"."""
    words = words_of(sentence).split()
    for at in range(min(len(words), _TITLE_WORDS + 1)):
        if at and words[at - 1] in _CITING:
            continue
        rest = " " + " ".join(words[at:]) + " "
        if rest.startswith(_self_descriptions()):
            return True
    return False


@cache
def _self_descriptions() -> tuple[str, ...]:
    """Every self-reference followed by every verb of description, as " this guide explains "."""
    lists = _lists()
    return tuple(
        f" {opener} {verb} "
        for opener in lists["self_reference"]
        for verb in lists["self_description"]
    )


def _speaks_to_the_agent(sentence: str) -> bool:
    """A step or an instruction (by its opening word, after a condition before it), a line
    about the customer (by name or as "they") or to the agent ("you", after any condition),
    one that names the agent's tool or world, a lead-in that ends with a colon or comma
    ("Guest members:", "In this case,") or is joined to its first item, a line that opens by
    pointing back ("This only works for Gold members."), or a line that does not end as a
    sentence does."""
    lists, words = _lists(), words_of(sentence)
    openers = (*lists["step_start"], *lists["instruction_start"])
    if names_the_customer(words) or _has(words, lists["customer_pronoun"]):
        return True
    if _has(words, lists["agent_tool"]) or _has(words, lists["agent_world"]):
        return True
    if sentence.rstrip().endswith((":", ",")) or _JOINED_LEAD_IN.search(sentence):
        return True
    if not ends_a_sentence(sentence):
        return True
    if points_back(sentence):
        return True  # points back at a step: "This only works for Gold members."
    opening = words_of(_CONDITION_START.sub("", _BRACKETED_START.sub("", sentence)))
    if _has(opening, lists["agent_pronoun"]):
        return True  # "you" after a condition: "If you are a Gold member, returns are free."
    return any(opening.startswith(f" {w} ") for w in openers)


# A lead-in that the parser joined to its first item ("If Guest or Bronze: – Then this is a
# customer error, and the extra fee stays.", from a PDF's text layer).
_JOINED_LEAD_IN = re.compile(r":\s+[-–—•*]\s")

# A condition before a step: "(Only if the records say Yes) Find out...", "If it has
# shipped, find out...", "When in doubt, escalate...".
_BRACKETED_START = re.compile(r"^\s*\([^)]*\)\s*")
_CONDITION_START = re.compile(r"^\s*(?:if|when|once|after|before|unless)\b[^,]*,\s*", re.I)


def points_back(sentence: str) -> bool:
    """The sentence opens with a word that points back at the one before it ("It is billed
    once a year...", "This only works for Gold members.")."""
    words = words_of(sentence)
    return any(words.startswith(f" {w} ") for w in _lists()["back_reference"])


def is_question(sentence: str) -> bool:
    return sentence.rstrip(" \"'\u201d)").endswith("?")


def is_answer_text(sentence: str, section: str = "", for_the_agent: bool = False) -> bool:
    """False for headings, navigation, agent-internal lines, descriptions of the document
    and questions; `for_the_agent`: the sentence comes from a document written for the
    agent."""
    return not (
        is_heading(sentence, section)
        or is_navigation(sentence)
        or is_agent_internal(sentence)
        or is_about_the_document(sentence)
        or is_question(sentence)
        or (for_the_agent and _speaks_to_the_agent(sentence))
    )


def short_answer(question: str, sentences: list[str]) -> str | None:
    """The short answer the sentences (best first) give to `question`, verbatim, or None."""
    q = words_of(question)
    if q.startswith(" how long ") or " how many days " in q or " how many weeks " in q:
        patterns = [_DURATION]
    elif q.startswith(" how much ") or _has(q, ("cost", "costs", "price", "fee", "fees", "charge")):
        patterns = [_AMOUNT]
    elif q.startswith(" when ") or _has(q, ("what date", "what day", "which day")):
        patterns = [_DATE, _DURATION]
    elif q.startswith(" how many "):
        patterns = [_NUMBER]
    elif q.split()[:1] and q.split()[0] in _AUXILIARIES:
        for sentence in sentences[:1]:
            if found := _YES_NO.match(sentence.strip()):
                return found.group(1).capitalize()
        return None
    else:
        return None
    for pattern in patterns:
        for sentence in sentences:
            if found := pattern.search(sentence):
                return found.group(0)
    return None
