"""Is a message small talk: a greeting, thanks, an acknowledgement, a goodbye, a word that the
last reply did not help ("That's not what I asked") or a question about the agent itself
("Am I talking to a bot?", "Is this a real person?", "What can you do?"), and nothing else?
Such a message asks nothing of the knowledge: searching it for "thanks!" after an answer
found the same passages again and repeated the answer, with high confidence, and "Am I
talking to a bot?" got "I couldn't find anything about that". The router (agent/route.py)
answers it with a line of its own instead (`reply_line`); a question whether the agent is a
person is answered so too, not handed off as a request for one.

A message is small talk when the phrases of `small_talk_words.yaml` (English; greetings,
thanks and goodbyes in six more languages, answered in English) and its filler words
("there", "so much", "for your") make up all of its words, at most `MAX_WORDS` of them, and
at least one phrase is there: "Hi there!", "thanks so much for your help", "ok great,
bye". Any other word makes it a message like any other ("hi, where is my order?"). Where
several kinds appear, a question about the agent wins, then the kind that ends the
conversation most: goodbye, then not helped, thanks, greeting, acknowledgement ("ok thanks,
bye" is a goodbye). "That doesn't help" after an answer about shipping was searched with it
and quoted three more shipping sentences at 0.99; it gets a line saying sorry and asking
for the question another way (NOT_HELPED), and said again right after, a person
(agent/route.py). Bare "yes" and "no" are not small talk: they answer a question the
agent asked. Searched with the conversation, "no" after an answer about shipping quoted
three more shipping prices at confidence 0.96; to "Is there anything else I can help you
with?" (ANYTHING_ELSE), to a clarifying question that named options ("Do you mean ...?")
and to a reply that asked nothing they get a line of their own (`yes_no_line`); to a
procedure's question for a value (an order number), a bare no says the end user cannot give
it (`cannot_give`). A message without words ("?", an emoji) is `NOTHING`: the agent asks
what the end user needs.

The conversation a question is searched with (`conversation_so_far`) leaves small talk out,
and starts after the last goodbye (the agent's too), also one after a stop phrase ("Forget
it, bye"): after "ok bye", "How much is shipping?" was searched with the closed order
lookup's turns and quoted an order-status line.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import NamedTuple

from agent.answer.clarify import yes_or_no_to
from agent.understand.records import Prediction
from agent.understand.request import read_request
from agent.understand.word_lists import lower_case_lists, plain
from knowledge.query import Turn, without_exchanges

WORDS = Path(__file__).with_name("small_talk_words.yaml")
# first found decides
KINDS = ("identity", "goodbye", "not_helped", "thanks", "greeting", "acknowledgement")
NONE = "none"
NOTHING = "nothing"  # a message without words
MAX_WORDS = 12
MAX_NAMED = 8  # the requests a question about the agent names, of a tenant's procedures
_TOKEN = re.compile(r"[a-z]+(?:'[a-z]+)?")

ANYTHING_ELSE = "Is there anything else I can help you with?"
GOODBYE = "Thank you for contacting us. Goodbye!"
WHAT_ELSE = "What can I help you with?"
SORRY = "I'm sorry that didn't help."
NOT_HELPED = (
    f"{SORRY} Could you put your question another way? You can also ask for a member of our team."
)


@cache
def _words() -> dict[str, list[str]]:
    """`small_talk_words.yaml`, read once, lower case."""
    return lower_case_lists(WORDS)


@cache
def _lists() -> tuple[dict[tuple[str, ...], str], frozenset[str]]:
    """Each phrase as its words -> its kind; the filler words."""
    lists = _words()
    phrases = {tuple(p.split()): kind for kind in KINDS for p in lists[kind]}
    for nature in lists["identity_natures"]:  # "is this" + "a real person", "or" + "a bot"
        for opening in [*lists["identity_openings"], "or"]:
            phrases[(*opening.split(), *nature.split())] = "identity"
    return phrases, frozenset(lists["filler"])


@cache
def _yes_no_lists() -> tuple[dict[tuple[str, ...], str], frozenset[str]]:
    """Each yes or no phrase as its words -> 'yes' or 'no'; the filler words."""
    lists = _words()
    phrases = {
        tuple(p.split()): kind.removeprefix("answer_")
        for kind in ("answer_yes", "answer_no")
        for p in lists[kind]
    }
    return phrases, frozenset(lists["filler"])


def detect_small_talk(message: str) -> Prediction:
    """The kind of small talk `message` is, or `NONE`; see the module docstring."""
    tokens = _TOKEN.findall(plain(message.replace("\u2019", "'")))
    if not re.search(r"[^\W_]", message):  # "?", "...", an emoji: nothing to search for
        return Prediction(NOTHING, 0.95, {"rule": "no words"})
    if not tokens:  # digits, or letters of another script
        return Prediction(NONE, 0.95, {"rule": "no English words"})
    if len(tokens) > MAX_WORDS:
        return Prediction(NONE, 0.95, {"rule": f"more than {MAX_WORDS} words"})
    phrases, filler = _lists()
    found, more = _phrases(tokens, phrases, filler)
    if more:
        return Prediction(NONE, 0.95, {"rule": f"'{more}' is more than small talk"})
    if not found:
        return Prediction(NONE, 0.95, {"rule": "filler words only"})
    kind = next(k for k in KINDS if any(f == k for f, _ in found))
    return Prediction(kind, 0.95, {"phrases": [p for _, p in found]})


def _phrases(
    tokens: Sequence[str], phrases: dict[tuple[str, ...], str], filler: frozenset[str]
) -> tuple[list[tuple[str, str]], str]:
    """The (kind, phrase) pairs `tokens` are made of, longest phrase first, with filler words
    between; and the first word that is neither ("" when there is none)."""
    longest = max(len(p) for p in phrases)
    found: list[tuple[str, str]] = []
    at = 0
    while at < len(tokens):
        match = next(
            (
                tuple(tokens[at : at + n])
                for n in range(min(longest, len(tokens) - at), 0, -1)
                if tuple(tokens[at : at + n]) in phrases
            ),
            None,
        )
        if match is not None:
            found.append((phrases[match], " ".join(match)))
            at += len(match)
        elif tokens[at] in filler:
            at += 1
        else:
            return found, tokens[at]
    return found, ""


def yes_or_no(message: str) -> str | None:
    """'yes' or 'no' when the message is only that ("Yes please", "no, not really": the
    `answer_yes` or `answer_no` list with filler words), else None; both is neither, and so
    is a message with a digit ("no 33489" gives a value)."""
    if any(c.isdigit() for c in message):
        return None
    tokens = _TOKEN.findall(plain(message.replace("\u2019", "'")))
    found, more = _phrases(tokens, *_yes_no_lists())
    kinds = {kind for kind, _ in found}
    return kinds.pop() if len(kinds) == 1 and not more else None


def last_reply(history: Sequence[Turn]) -> str:
    """The agent's last reply in `history` ("" before the first)."""
    return next((t.text for t in reversed(history) if t.role == "assistant"), "")


def cannot_give(message: str, choice: bool) -> str:
    """The phrase that says the end user cannot give the value a procedure asks for ("I
    don't remember", the request words' `unable` list), or 'no' for a bare no ("nope", "no,
    not really") to a value that is looked up (an order number, an email address, a PIN;
    not a `choice`, whose options the hint lists again): it is no mistyped value. "" else."""
    unable = read_request(message).unable
    if unable or choice:
        return unable
    return "no" if yes_or_no(message) == "no" else ""


class Line(NamedTuple):
    text: str
    reason: str  # for the trace


def yes_no_line(message: str, history: Sequence[Turn]) -> Line | None:
    """The agent's line for a bare yes or no (`yes_or_no`; agent/route.py rule yes_no): to
    "Is there anything else I can help you with?", a goodbye for no and a question what for
    yes; to a clarifying question that named options ("Do you mean ...?"), the line of
    `agent.answer.clarify.yes_or_no_to`; to a reply that asked nothing, an offer of more help.
    None for any other message, and after any other question, which the yes or no answers."""
    answer = yes_or_no(message)
    last = last_reply(history)
    if answer is None or not last:
        return None
    if last.endswith(ANYTHING_ELSE):
        text = GOODBYE if answer == "no" else WHAT_ELSE
        return Line(text, f"'{answer}' to '{ANYTHING_ELSE}': a line of its own")
    if (line := yes_or_no_to(last, answer)) is not None:
        why = "turns every option down" if answer == "no" else "picks none of them"
        return Line(line, f"'{answer}' to a clarifying question that named options {why}")
    if "?" not in last:
        return Line(
            ANYTHING_ELSE, f"'{answer}' after a reply that asked nothing: an acknowledgement"
        )
    return None


def reply_line(
    kind: str, disclosure: str, waiting: bool = False, requests: Sequence[str] = ()
) -> str:
    """The agent's line for small talk of `kind`. A greeting, and a question about the agent,
    say what the agent is (the tenant's AI disclosure); a question about the agent also names
    the `requests` it can carry out (its procedures' titles, at most `MAX_NAMED`). `waiting`:
    a procedure waits for a value and asks for it again right after, so the line offers
    nothing more."""
    if waiting:
        short = {"identity": disclosure, "greeting": "Hello!", "thanks": "You're welcome.",
                 "not_helped": SORRY}  # fmt: skip
        return short.get(kind, "")
    if kind == "identity":
        named = list(requests[:MAX_NAMED])
        if len(requests) > MAX_NAMED:
            named.append(f"and {len(requests) - MAX_NAMED} more")
        can = f" I can also carry out these requests: {'; '.join(named)}." if named else ""
        return f"{disclosure}{can} {WHAT_ELSE}"
    if kind == "greeting":
        return f"Hello! {disclosure} {WHAT_ELSE}"
    if kind == NOTHING:
        return WHAT_ELSE
    if kind == "thanks":
        return f"You're welcome. {ANYTHING_ELSE}"
    if kind == "goodbye":
        return GOODBYE
    if kind == "not_helped":
        return NOT_HELPED
    return ANYTHING_ELSE


def says_goodbye(text: str) -> bool:
    """A goodbye, alone ("ok bye") or after a stop phrase ("Forget it, bye")."""
    after = read_request(text).after_stop
    return any(detect_small_talk(said).label == "goodbye" for said in (text, after) if said)


def _ends(turn: Turn) -> bool:
    """The turn ends a conversation: the end user's goodbye or the agent's."""
    return says_goodbye(turn.text) if turn.role == "user" else turn.text.endswith(GOODBYE)


def conversation_so_far(history: tuple[Turn, ...]) -> tuple[Turn, ...]:
    """The earlier turns worth searching with: without small talk (and a yes or no that got a
    line of its own) and the agent's replies to it, and only those after the end user's last
    goodbye (`says_goodbye`) or the agent's (GOODBYE, also to a "no" after ANYTHING_ELSE)."""
    goodbyes = [at for at, turn in enumerate(history) if _ends(turn)]
    start = goodbyes[-1] + 1 if goodbyes else 0
    if start < len(history) and history[start].role == "assistant":
        start += 1  # the agent's reply to the goodbye

    def small_talk(text: str, earlier: tuple[Turn, ...]) -> bool:
        before = history[: start + len(earlier)]  # a yes or no reads the whole conversation
        return detect_small_talk(text).label != NONE or yes_no_line(text, before) is not None

    return without_exchanges(history[start:], small_talk)
