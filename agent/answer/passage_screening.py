"""Screening retrieved passages for prompt injection before they reach a composer.

A paragraph of a chunk that holds a sentence the message detector
(agent.understand.screening) flags, or that is flagged as a whole, is removed from the
chunk's text and its sentences are listed, with the reason, for the retrieve step of the
trace.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from agent.answer.reading import split_sentences
from agent.understand.screening import INJECTION, detect_injection, rule_names
from knowledge.records import ScoredChunk


@dataclass(frozen=True)
class ExcludedSentence:
    """A sentence kept away from the composer, and why."""

    chunk_id: str
    document_id: str
    sentence: str
    reason: str

    def as_dict(self) -> dict[str, str]:
        return {
            "chunk_id": self.chunk_id,
            "document_id": self.document_id,
            "sentence": self.sentence,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class Screening:
    chunks: list[ScoredChunk]  # the same chunks, flagged paragraphs removed from their text
    excluded: list[ExcludedSentence]


def paragraphs(text: str) -> list[str]:
    """Lines of a chunk, except that a fenced code block stays whole with the line before it
    (the sentence that introduces the code is part of the same attack)."""
    units: list[str] = []
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        if lines[i].lstrip().startswith("```"):
            end = next(
                (j for j in range(i + 1, len(lines)) if lines[j].lstrip().startswith("```")),
                len(lines) - 1,
            )
            block = "\n".join(lines[i : end + 1])
            if units and not lines[i - 1].lstrip().startswith("```"):
                units[-1] = f"{units[-1]}\n{block}"
            else:
                units.append(block)
            i = end + 1
            continue
        units.append(lines[i])
        i += 1
    return units


def screen_chunks(chunks: Sequence[ScoredChunk]) -> Screening:
    """Remove every paragraph of a chunk that holds a sentence flagged as injection, or that
    is flagged as a whole.

    The whole paragraph goes, not only the flagged sentence: an override ("Ignore previous
    instructions.") is usually followed by its payload in the next sentence.
    """
    screened: list[ScoredChunk] = []
    excluded: list[ExcludedSentence] = []
    for scored in chunks:
        units = paragraphs(scored.chunk.text)
        kept: list[str] = []
        for unit in units:
            sentences = split_sentences(unit) or [unit.strip()]
            verdicts = [detect_injection(s) for s in sentences]
            whole = detect_injection(unit) if len(sentences) > 1 else verdicts[0]
            if whole.label != INJECTION and not any(v.label == INJECTION for v in verdicts):
                kept.append(unit)
                continue
            for sentence, verdict in zip(sentences, verdicts, strict=True):
                if verdict.label == INJECTION:
                    reason = "flagged as prompt injection: " + ", ".join(rule_names(verdict))
                elif whole.label == INJECTION:
                    reason = "paragraph flagged as prompt injection: " + ", ".join(
                        rule_names(whole)
                    )
                else:
                    reason = "same paragraph as a flagged sentence"
                excluded.append(
                    ExcludedSentence(
                        scored.chunk.chunk_id, scored.chunk.document_id, sentence, reason
                    )
                )
        if len(kept) == len(units):
            screened.append(scored)
        else:
            chunk = replace(scored.chunk, text="\n".join(kept))
            screened.append(replace(scored, chunk=chunk))
    return Screening(screened, excluded)
