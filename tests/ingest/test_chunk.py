from __future__ import annotations

from itertools import pairwise

from ingest.chunk import ChunkingConfig, chunk_elements
from ingest.parse import ParsedElement


def count(text: str) -> int:
    return len(text.split())


def test_chunks_respect_the_token_bound_and_overlap() -> None:
    sentences = [f"Sentence number {i} says something useful." for i in range(60)]
    elements = [ParsedElement(" ".join(sentences), "NarrativeText", "Returns", 1)]
    chunks = chunk_elements(
        "doc", elements, count, ChunkingConfig(max_tokens=40, overlap_tokens=12)
    )
    assert len(chunks) > 5
    assert all(count(c.text) <= 40 for c in chunks)
    for before, after in pairwise(chunks):
        assert before.text.splitlines()[-1] in after.text  # shared tail sentence (one a line)
    assert [c.ordinal for c in chunks] == list(range(len(chunks)))
    # every sentence survives
    joined = " ".join(c.text for c in chunks)
    assert all(s in joined for s in sentences)


def test_a_chunk_never_spans_two_sections_or_pages() -> None:
    elements = [
        ParsedElement("Returns", "Title", "", 1),
        ParsedElement("Return within 30 days.", "NarrativeText", "Returns", 1),
        ParsedElement("Refunds", "Title", "Returns", 1),
        ParsedElement("Refunds take 5 days.", "NarrativeText", "Returns > Refunds", 1),
        ParsedElement("Store credit is instant.", "NarrativeText", "Returns > Refunds", 2),
    ]
    chunks = chunk_elements("doc", elements, count)
    assert [(c.section, c.page) for c in chunks] == [
        ("Returns", 1),
        ("Returns > Refunds", 1),
        ("Returns > Refunds", 2),
    ]


def test_overlong_sentence_is_split_to_fit() -> None:
    elements = [ParsedElement(" ".join(["word"] * 500), "NarrativeText", "", None)]
    chunks = chunk_elements("doc", elements, count, ChunkingConfig(max_tokens=50, overlap_tokens=0))
    assert all(count(c.text) <= 50 for c in chunks)
    assert sum(count(c.text) for c in chunks) == 500
