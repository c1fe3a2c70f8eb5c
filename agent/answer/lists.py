"""A lead-in and the list it introduces ("You can claim if either of the following apply:",
then one item a line), so that the extractive composer quotes them together: a lead-in
quoted alone promises a list the reply does not give.

A lead-in is a line that ends with a colon. Its items are the lines that follow it in the
same chunk while each reads as a list item:
- it opens with a list marker ("-", "*", "•", "1." ...), as plain text keeps them;
- or it does not end as a sentence does (HTML and Markdown lists lose their markers, and
  their items are phrases: "brothers and sisters", "you’re over 18;", "a grant of probate, or");
- or it is a "label: value" line with a short label ("Gold members: any time.").
The list ends at the first line that is none of these (the text goes on with a sentence) or
that is a lead-in itself.
"""

from __future__ import annotations

import re

_MARKER = re.compile(r"^(?:[-*•–◦▪]|\d{1,2}[.)]|[a-z][.)])\s+")
_ENDS_A_SENTENCE = re.compile(r"[.!?][\"'”’)\]]*$")
_LABEL = re.compile(r"^[^:.!?]{1,40}:\s+\S")
_LABEL_WORDS = 5
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9“\"‘(])")


def join_quotes(quotes: list[str]) -> str:
    """A reply of quotes: sentences run on; a list (a quote of several lines) stands on lines
    of its own."""
    text, listed = "", False
    for quote in quotes:
        is_list = "\n" in quote
        if text:
            text += "\n" if is_list or listed else " "
        text += quote
        listed = is_list
    return text


def ends_a_sentence(line: str) -> bool:
    """The line ends with a full stop, a question or an exclamation mark (before any closing
    quote or bracket)."""
    return _ENDS_A_SENTENCE.search(line.strip()) is not None


def is_lead_in(sentence: str) -> bool:
    return sentence.rstrip().endswith(":")


def list_block(text: str, sentence: str) -> str | None:
    """The lead-in and its items, verbatim and one a line, when `sentence` is a lead-in of
    `text` (a chunk's text) or one of its items; None when it is neither, or when the
    lead-in's items are not in the chunk."""
    lines = [line.strip() for line in text.split("\n")]
    at = next((i for i, line in enumerate(lines) if sentence.strip() in line), None)
    if at is None:
        return None
    if is_lead_in(lines[at]):
        if not lines[at].endswith(sentence.strip()):
            return None  # a sentence before the lead-in on its line
        start = at
    elif _is_item(lines[at]):
        start = at - 1
        while start >= 0 and lines[start] and not is_lead_in(lines[start]):
            if not _is_item(lines[start]):
                return None
            start -= 1
        if start < 0 or not is_lead_in(lines[start]):
            return None
    else:
        return None
    items = []
    for line in lines[start + 1 :]:
        if not line or is_lead_in(line) or not _is_item(line):
            break
        items.append(line)
    if not items:
        return None
    lead_in = _last_sentence(lines[start])
    return "\n".join([lead_in, *items])


def _last_sentence(line: str) -> str:
    parts = _SENTENCE_END.split(line)
    return parts[-1].strip()


def _is_item(line: str) -> bool:
    if _MARKER.match(line) or not ends_a_sentence(line):
        return True
    label = _LABEL.match(line)
    return label is not None and len(line.split(":", 1)[0].split()) <= _LABEL_WORDS
