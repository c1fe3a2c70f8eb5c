"""Who a document is written for: the company's customers, or its agents.

A help page speaks to its reader as "you"; an agent's guideline speaks about "the customer"
("Verify the identity of the customer.", "Ask the customer for their order number"). A
document is written for the agent when at least `MIN_NAMED` of its sentences, and at least
`MIN_SHARE` of them, name the customer in the third person. Ingestion records the answer on
every chunk (`metadata["audience"]`), so that answers quote an agent's guideline for its
facts, never for its steps (agent.answer.answer_shape). A corpus record can state it in its
own metadata instead (`"audience": "agent"` or `"customer"`). Documents ingested before the
rule existed, or under another one, are processed again the next time they are ingested.

Measured on the development corpora (docs/benchmarks.md, "Who a document is written for"):
no ConditionalQA or mtrag_dev document has more than 2 such sentences; each of the sample
knowledge's ten guideline documents has at least 13.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache
from pathlib import Path

import yaml

from knowledge.records import Chunk

WORDS = Path(__file__).with_name("audience_words.yaml")
AUDIENCE = "audience"  # the chunk and corpus metadata key
AGENT, CUSTOMER = "agent", "customer"
AUDIENCE_STATED = "audience_stated"  # document metadata: stated by the admin, not detected
MIN_NAMED = 5
MIN_SHARE = 0.05


def signature() -> str:
    """Changes with the rule and with where the verdict is recorded, so that ingesting the
    same files again records the new verdict (part of the ingestion signature,
    ingest.pipeline.Ingestor.signature). v2: also on the document, not only its chunks."""
    return f"audience-v2-{MIN_NAMED}-{MIN_SHARE}"


_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")


@cache
def _lists() -> dict[str, tuple[str, ...]]:
    data = yaml.safe_load(WORDS.read_text(encoding="utf-8"))
    lists = {}
    for key in ("customer", "customer_compounds"):
        values = data.get(key) if isinstance(data, dict) else None
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise ValueError(
                f"{WORDS}: '{key}' must be a list of words (quote any that YAML reads otherwise)"
            )
        lists[key] = tuple(v.lower() for v in values)
    return lists


def words_of(text: str) -> str:
    """`text` lower-cased as space-separated words, with a space at each end."""
    return " " + " ".join(re.findall(r"[a-z0-9']+", text.lower().replace("\u2019", "'"))) + " "


@cache
def _compound() -> re.Pattern[str]:
    compounds = "|".join(re.escape(w) for w in _lists()["customer_compounds"])
    return re.compile(rf" customer (?=(?:{compounds}) )")


def names_the_customer(words: str) -> bool:
    """True when `words` (from `words_of`) name the customer as a person, not as the first
    word of a compound ("the customer portal")."""
    person = _compound().sub(" customer_ ", words)
    return any(f" {p} " in person for p in _lists()["customer"])


def sentences_of(texts: Iterable[str]) -> list[str]:
    """The sentences and lines of `texts`."""
    return [s for text in texts for s in _SENTENCE.split(text) if s.strip()]


def audience_of(texts: Iterable[str]) -> str:
    """AGENT when the sentences of `texts` (a document's elements) name the customer in the
    third person often enough, else CUSTOMER."""
    sentences = sentences_of(texts)
    named = sum(names_the_customer(words_of(s)) for s in sentences)
    return AGENT if named >= MIN_NAMED and named >= MIN_SHARE * len(sentences) else CUSTOMER


def stated_audience(metadata: dict[str, object]) -> str | None:
    """The audience a source's metadata states, when it is one of AGENT and CUSTOMER."""
    value = metadata.get(AUDIENCE)
    return value if value in (AGENT, CUSTOMER) else None


def for_the_agent(chunk: Chunk) -> bool:
    """Whether the chunk's document is written for the company's agents (its recorded
    audience; a chunk with none counts as written for customers)."""
    return chunk.metadata.get(AUDIENCE) == AGENT
