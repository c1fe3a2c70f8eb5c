"""Is a message a request to act on the end user's own case, a general question, or a
request to stop? Read by routing (agent/route.py): a procedure acts on the user's own order,
password or subscription, so it starts only for a request; a general question about the same
topic ("How long does shipping take?") is answered from the knowledge.

Signals, from the word lists in request_words.yaml (English):
- own case: a first-person possessive/object word ("my order", "for me"), or a first-person
  statement ("I forgot", "we ordered"); an inverted question ("can I", "do we") is not one,
  and neither is a question about what the company does in general, which opens with
  "do you", "will you ever"... ("Do you ship to my country?"), unless it goes on as a
  request ("do you know where my order is?"); nor is a statement of who the user is ("I'm a
  Gold member", "I am a guest customer");
- a request to the agent: "please", "can you ...", or an instruction verb first ("track ...");
- a question: a question mark, or a question word first, or a phrase that asks to be told
  something ("Tell me about the premium subscription", "I'd like to know more about
  shipping"); such a message asks nothing of the agent but an answer, and the phrase's own
  words ("me", "I'd") are not the user's case: only the rest of the message can make it a
  request ("Tell me where my order is");
- stop: the message is, or starts with, a phrase that ends what the agent is doing, after
  words that only open it, if any ("Oh never mind"); `after_stop` is what follows the phrase
  when a break (a comma, a full stop, a dash...) or a question word parts them ("Forget it.
  How long does shipping take?"), for routing to answer; "Stop my subscription" has none;
- ending: phrases that ask to end a service or an order ("cancel", "stop my");
- timing: the opening of a question about when something will happen ("when", "how long
  until"). Routing starts a procedure on a message with either only when the procedure's own
  title or examples have it too (agent/route.py `takes`);
- pointing: the first pronoun that points back at what the conversation is about ("it",
  "they", "this");
- unable: a phrase that says the end user cannot give what was asked ("I don't remember",
  "I lost it"); read by the procedure runner when a message is no value for its question;
- why: a phrase that asks why the agent wants what it asked for ("Why do you need my
  email?"), or "why" as the whole message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from agent.understand.word_lists import lower_case_lists

WORDS = Path(__file__).with_name("request_words.yaml")
_TOKEN = re.compile(r"[a-z]+(?:'[a-z]+)?")


@dataclass(frozen=True)
class RequestSignal:
    """What the message does, with the words that showed it (for the trace)."""

    own_case: bool
    asks_agent: bool
    question: bool
    stop: bool
    evidence: tuple[str, ...]
    ending: tuple[str, ...] = ()
    timing: str = ""
    pointing: str = ""
    unable: str = ""
    why: str = ""
    after_stop: str = ""

    @property
    def request(self) -> bool:
        """The message asks the agent to act on the user's own case."""
        return self.own_case or self.asks_agent

    def as_dict(self) -> dict[str, object]:
        return {
            "own_case": self.own_case,
            "asks_agent": self.asks_agent,
            "question": self.question,
            "stop": self.stop,
            "evidence": list(self.evidence),
            "ending": list(self.ending),
            "timing": self.timing,
            "pointing": self.pointing,
            "unable": self.unable,
            "why": self.why,
            "after_stop": self.after_stop,
        }


@dataclass(frozen=True)
class _Lists:
    own: frozenset[str]
    subject: frozenset[str]
    describing: tuple[str, ...]
    inverting: frozenset[str]
    asking: tuple[str, ...]
    imperative: tuple[str, ...]
    practice: tuple[str, ...]
    practice_requests: tuple[str, ...]
    stop: tuple[str, ...]
    before_stop: tuple[str, ...]
    question: frozenset[str]
    ending: tuple[str, ...]
    timing: tuple[str, ...]
    pointing: frozenset[str]
    unable: tuple[str, ...]
    why: tuple[str, ...]
    informing: tuple[str, ...]


@cache
def _lists() -> _Lists:
    get = lower_case_lists(WORDS)
    return _Lists(
        frozenset(get["own"]), frozenset(get["subject"]), tuple(get["describing"]),
        frozenset(get["inverting"]),
        tuple(get["asking"]), tuple(get["imperative"]), tuple(get["practice"]),
        tuple(get["practice_requests"]), tuple(get["stop"]), tuple(get["before_stop"]),
        frozenset(get["question"]),
        tuple(get["ending"]), tuple(get["timing"]), frozenset(get["pointing"]),
        tuple(get["unable"]), tuple(get["why"]), tuple(get["informing"]),
    )  # fmt: skip


def _fold(text: str) -> list[str]:
    return _TOKEN.findall(text.lower().replace("\u2019", "'"))


def _starts(tokens: list[str], phrase: str) -> bool:
    words = phrase.split()
    return tokens[: len(words)] == words


def _contains(tokens: list[str], phrase: str) -> bool:
    words = phrase.split()
    return any(tokens[i : i + len(words)] == words for i in range(len(tokens)))


def _phrase_pattern(phrase: str) -> str:
    """`phrase` as a regular expression over a message's own text: words apart by any
    spacing or punctuation, either apostrophe."""
    return r"\W+".join(re.escape(word).replace("'", "['\u2019]") for word in phrase.split())


@cache
def _stop_opening() -> re.Pattern[str]:
    """A stop phrase first in a message, after words that only open it; the longest phrase
    wins, and group `rest` is what follows it."""
    lists = _lists()
    openers = "|".join(_phrase_pattern(p) for p in lists.before_stop)
    phrases = "|".join(_phrase_pattern(p) for p in sorted(lists.stop, key=len, reverse=True))
    return re.compile(
        rf"^\W*(?:(?:{openers})\W+)*?(?P<phrase>{phrases})(?![\w'\u2019])(?P<rest>.*)$",
        re.IGNORECASE | re.DOTALL,
    )


_BREAKS = ",.;:!?-\u2013\u2014"


def _after_stop(rest: str, lists: _Lists) -> str:
    """What follows a stop phrase, when a break or a question word parts it from the phrase;
    "" when nothing does (then the phrase is the verb of what follows: "stop my
    subscription")."""
    said = rest.lstrip(" \t\r\n" + _BREAKS).rstrip()
    if not re.search(r"[^\W_]", said):
        return ""
    first = _fold(said)[:1]
    asks = bool(first) and first[0].split("'")[0] in lists.question
    return said if rest.lstrip()[:1] in _BREAKS or asks else ""


def _practice(tokens: list[str], lists: _Lists) -> str:
    """The opening of a question about what the company does in general, or ""."""
    if any(_starts(tokens, p) for p in lists.practice_requests):
        return ""
    return next((p for p in lists.practice if _starts(tokens, p)), "")


def _told(tokens: list[str], lists: _Lists) -> tuple[str, list[str]]:
    """The longest phrase of `tokens` that asks to be told something, and the tokens without
    it; ("", tokens) when there is none."""
    found = [
        (len(words), i, phrase)
        for phrase in lists.informing
        for words in [phrase.split()]
        for i in range(len(tokens))
        if tokens[i : i + len(words)] == words
    ]
    if not found:
        return "", tokens
    size, at, phrase = max(found, key=lambda f: (f[0], -f[1]))
    return phrase, tokens[:at] + tokens[at + size :]


def without_asking_to_be_told(message: str) -> str:
    """`message` without its phrase that asks to be told ("I'd like to know more about
    shipping" -> "more about shipping"), for the knowledge search: the phrase's words ("like",
    "know") match passages that are not about the topic. `message` itself when it has none,
    or nothing else."""
    told, _ = _told(_fold(message), _lists())
    if not told:
        return message
    words = (re.escape(word).replace("'", "['\u2019]") for word in told.split())
    phrase = r"\W+".join(words)
    rest = re.sub(rf"(?<!\w){phrase}(?!\w)", " ", message, count=1, flags=re.IGNORECASE)
    rest = " ".join(rest.strip(" ,.").split())
    return rest if re.search(r"[^\W_]", rest) else message


def without_stopping(message: str) -> str:
    """What follows the stop phrase that opens `message`, for the knowledge search ("Forget
    it. How long does shipping take?" -> "How long does shipping take?"): the phrase's words
    ("forget") match passages that are not about the question. `message` itself when it
    does not open with one, or nothing follows it (`RequestSignal.after_stop`)."""
    opening = _stop_opening().match(message)
    return (_after_stop(opening["rest"], _lists()) if opening else "") or message


def read_request(message: str) -> RequestSignal:
    """The request signals of `message`; see the module docstring."""
    lists, tokens = _lists(), _fold(message)
    evidence: list[str] = []
    practice = _practice(tokens, lists)  # a general question: no own case
    told, rest = _told(tokens, lists)  # "tell me about ...": its own words are no case
    own = [] if practice else [t for t in rest if t in lists.own]
    evidence += own
    statement = [] if practice else [
        t for i, t in enumerate(rest)
        if t in lists.subject and not (i > 0 and rest[i - 1] in lists.inverting)
        and not any(_starts(rest[i + 1 :], d) for d in lists.describing)
    ]  # fmt: skip
    evidence += [f"statement '{t}'" for t in statement]
    evidence += [f"general question '{practice}'"] if practice else []
    evidence += [f"asks to be told '{told}'"] if told else []
    after = tokens[len(practice.split()) :]  # "will you" in "will you ever" asks nothing
    asking: list[str] = []
    if not told:  # "can you tell me about ..." asks for an answer only
        asking += [p for p in lists.asking if _contains(after, p)]
        asking += [f"imperative '{v}'" for v in lists.imperative if _starts(tokens, v)]
    evidence += asking
    opening = _stop_opening().match(message)
    stop = " ".join(_fold(opening["phrase"])) if opening else ""
    evidence += [f"stop '{stop}'"] if stop else []
    after_stop = _after_stop(opening["rest"], lists) if opening else ""
    question = message.rstrip().endswith("?") or bool(tokens and tokens[0] in lists.question)
    question = question or bool(told)
    ending = tuple(p for p in lists.ending if _contains(tokens, p))
    timing = next((p for p in lists.timing if _starts(tokens, p)), "")
    pointing = next((t for t in tokens if t in lists.pointing), "")
    unable = next((p for p in lists.unable if _contains(tokens, p)), "")
    why = "why" if tokens == ["why"] else next((p for p in lists.why if _contains(tokens, p)), "")
    return RequestSignal(bool(own or statement), bool(asking), question, bool(stop),
                         tuple(evidence), ending, timing, pointing, unable, why,
                         after_stop)  # fmt: skip
