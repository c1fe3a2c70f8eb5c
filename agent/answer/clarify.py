"""The clarifying question, asked when the passages found are not a confident answer: it names
the topics those passages are about, best first, and asks which one the end user means,
rather than guessing.

    naming(topics(chunks, about=question))
    -> 'I want to make sure I answer the right question. Do you mean "Shipping Status",
        "Shipping Cost" or "Manage Shipping"?'

A topic is a passage's deepest heading (the last part of its section path that reads as a
heading, not the colon-ended lead-in of a list), or its document's title (else its id) when
it has none. Topics that differ only in case or word form ("Shipping costs", "Shipping
Cost") are one.

Only passages written for customers are named: a guideline written for the company's agents
(knowledge.audience) has section names and a title of the agent's own ("Status Mystery Fee",
"Account Access: Policy and Agent Procedures"), which mean nothing to an end user. Asked
"account", the demo offered three guideline titles; asked "I want to change something",
"Manage Change Phone", "Manage Change Name" or "Manage Change Address" (session 35). When only
guidelines speak to the question, the question asks for more detail (`naming`, `more_found`).

Only passages that share a content word (by stem) with the question are named: a passage
about something else is no reading of it. A topic whose own words share one with the
question comes before those that do not, whatever its passage scored: asked "How much is
shipping?", "Shipping costs" is the likelier reading than an order-issue procedure's
"Status Quantity" whose text mentions shipping. With one topic there is nothing to choose
between, and the question asks for more detail instead; with none, the reply says that
nothing was found and asks the end user to put it another way (or ask for a person).

The end user's answer to it (`chosen`) picks an option by its words ("Shipping costs",
"shipping") or its place ("the second one", "2", "the last"); the question asked about, with
the option's words, is then what is searched for. Before, "Shipping costs" was searched with
the clarifying question, which names every option, and was handed off. A bare "no" to it
turns every option down and "yes" picks none (`yes_or_no_to`): each gets a line of its own
(agent.understand.small_talk.yes_no_line), not a search that answered with an option.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from agent.answer.reading import content_terms
from knowledge.audience import for_the_agent
from knowledge.query import Turn
from knowledge.records import ScoredChunk

MAX_OPTIONS = 3
OPENING = "I want to make sure I answer the right question."
ASK_MORE = f"{OPENING} Could you tell me a little more about what you need?"
NOTHING_FOUND = (
    "I couldn't find anything about that in what I have been given. Could you put it "
    "another way? You can also ask for a member of our team."
)
NONE_OF_THEM = (
    "I'm sorry, that is all I found about it. Could you put your question another way? You "
    "can also ask for a member of our team."
)
_DO_YOU_MEAN = f"{OPENING} Do you mean "
_QUOTED = re.compile(r'"([^"]*)"')
_WORD = re.compile(r"[a-z0-9]+")
_PLACES = {
    "first": 0, "1st": 0, "1": 0, "second": 1, "2nd": 1, "2": 1, "third": 2, "3rd": 2, "3": 2,
    "last": -1,
}  # fmt: skip
_AROUND_A_PLACE = {"the", "one", "option", "number", "no", "please", "i", "mean", "yes", "that"}
_SECTION_SEPARATOR = ">"
_MAX_TOPIC_CHARS = 80


def topics(chunks: Iterable[ScoredChunk], limit: int = MAX_OPTIONS, about: str = "") -> list[str]:
    """Up to `limit` distinct topics of the passages written for customers, the best-scored
    passage's first; with `about` (the question), only of passages that share a content word
    with it, and the topics that share one themselves before the others."""
    wanted = set(content_terms(about))
    found: dict[str, str] = {}
    for scored in sorted(chunks, key=lambda c: c.score, reverse=True):
        if for_the_agent(scored.chunk) or not _speaks_to(scored, wanted):
            continue
        topic = _topic(scored)
        key = _key(topic)
        if topic and key not in found:
            found[key] = topic
    named = sorted(found.values(), key=lambda t: not wanted & set(content_terms(t)))
    return named[:limit]


def guidelines_speak_to(chunks: Iterable[ScoredChunk], about: str = "") -> bool:
    """Whether a passage of a guideline written for the agent shares a content word with the
    question (any such passage, without a question): found, though never named."""
    wanted = set(content_terms(about))
    return any(for_the_agent(c.chunk) and _speaks_to(c, wanted) for c in chunks)


def naming(options: list[str], more_found: bool = False) -> str:
    """The clarifying question for these topics (`topics`' output). No options: when
    `more_found` (a guideline speaks to the question, `guidelines_speak_to`), the end user is
    asked for more detail; else no passage found shares a word with the question, and the
    end user is told so."""
    if not options:
        return ASK_MORE if more_found else NOTHING_FOUND
    if len(options) < 2:
        return ASK_MORE
    quoted = [f'"{option.replace(chr(34), "")}"' for option in options]
    return f"{_DO_YOU_MEAN}{', '.join(quoted[:-1])} or {quoted[-1]}?"


@dataclass(frozen=True)
class Choice:
    """An option of the agent's last clarifying question, and the question it asked about."""

    option: str
    question: str


def chosen(history: tuple[Turn, ...], message: str) -> Choice | None:
    """The option `message` picks when the agent's last reply asked which of several topics
    the end user meant (`naming`), by its place or its words; None when the last reply named
    no options, or the message picks none of them or more than one."""
    if len(history) < 2 or history[-1].role != "assistant" or history[-2].role != "user":
        return None
    options = options_named(history[-1].text)
    if not options:
        return None
    words = [w for w in _WORD.findall(message.lower()) if w not in _AROUND_A_PLACE]
    if len(words) == 1 and words[0] in _PLACES:
        at = _PLACES[words[0]]
        return Choice(options[at], history[-2].text) if at < len(options) else None
    said = set(content_terms(message))
    terms = {option: set(content_terms(option)) for option in options}
    picked = [o for o, t in terms.items() if said and t and (said <= t or t <= said)]
    exact = [option for option in picked if terms[option] == said]
    picked = exact if len(exact) == 1 else picked  # "returns": "Returns", not "... Returned"
    return Choice(picked[0], history[-2].text) if len(picked) == 1 else None


def options_named(asked: str) -> list[str]:
    """The options a clarifying question named (`naming`), as quoted; [] for any other
    reply."""
    if not (asked.startswith(_DO_YOU_MEAN) and asked.endswith("?")):
        return []
    return _QUOTED.findall(asked[len(_DO_YOU_MEAN) :])


def yes_or_no_to(asked: str, answer: str) -> str | None:
    """The agent's line when a bare yes or no answers a clarifying question that named
    several options: "no" turns them all down, so that is all there is (and how to reach a
    person); "yes" names none, so which one. None for any other reply asked."""
    options = options_named(asked)
    if len(options) < 2:
        return None
    if answer == "no":
        return NONE_OF_THEM
    return f"Which one do you mean: {asked[len(_DO_YOU_MEAN) :]}"


def _key(topic: str) -> str:
    """Topics that differ only in case, word form or small words are one topic
    ("Shipping costs", "Shipping Cost")."""
    return " ".join(sorted(content_terms(topic))) or topic.casefold()


def _titled(part: str) -> bool:
    """A section-path part that reads as a heading, not the lead-in of a list that the
    parser took for one ("membership level. - Gold members:")."""
    return bool(part) and not part.endswith(":")


def _speaks_to(scored: ScoredChunk, wanted: set[str]) -> bool:
    """Shares a content word with the question (every passage does when nothing is asked)."""
    text = f"{scored.title} {scored.chunk.section} {scored.chunk.text}"
    return not wanted or bool(wanted & set(content_terms(text)))


def _topic(scored: ScoredChunk) -> str:
    parts = [" ".join(p.split()) for p in scored.chunk.section.split(_SECTION_SEPARATOR)]
    heading = next((p for p in reversed(parts) if _titled(p)), "")
    topic = " ".join((heading or scored.title or scored.chunk.document_id).split())
    if len(topic) > _MAX_TOPIC_CHARS:
        topic = topic[: _MAX_TOPIC_CHARS - 1].rstrip() + "…"
    return topic
