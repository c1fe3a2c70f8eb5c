"""Ingestion records who each document is written for on its chunks (knowledge.audience):
detected from the text, or stated by a corpus record's metadata. A stated audience that is
neither 'agent' nor 'customer' fails that record with a message; the rest is kept."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from ingest import pipeline
from ingest.pipeline import Ingestor
from ingest.sources import expand
from knowledge.store import KnowledgeStore
from knowledge.testing import HashEmbedder, InMemoryVectorStore

GUIDELINE = (
    "Ask the customer for their order number. Verify the identity of the customer. "
    "Tell the customer the refund takes five days. Offer the customer a promo code. "
    "Thank the customer and end the conversation. Issue the refund."
)
HELP_PAGE = "You can return an item within 30 days. We refund a return within 5 working days."


@pytest.fixture
def store(tmp_path: Path) -> Iterator[KnowledgeStore]:
    store = KnowledgeStore(tmp_path / "k.db", InMemoryVectorStore())
    yield store
    store.close()


def _audiences(store: KnowledgeStore, document_id: str) -> set[object]:
    return {c.metadata.get("audience") for c in store.document_chunks("acme", document_id)}


def test_files_get_the_audience_their_text_shows(store: KnowledgeStore, tmp_path: Path) -> None:
    (tmp_path / "refunds-guideline.md").write_text(f"# Refunds\n\n{GUIDELINE}\n")
    (tmp_path / "returns.md").write_text(f"# Returns\n\n{HELP_PAGE}\n")
    with Ingestor(store, HashEmbedder()) as ingestor:
        results = ingestor.run(
            "acme", expand([tmp_path / "refunds-guideline.md", tmp_path / "returns.md"])
        )
    assert [r.status for r in results] == ["ingested", "ingested"]
    assert _audiences(store, "refunds-guideline.md") == {"agent"}
    assert _audiences(store, "returns.md") == {"customer"}
    guideline = store.get("acme", "refunds-guideline.md")
    assert guideline is not None  # the document records the verdict too, as detected
    assert guideline.metadata["audience"] == "agent"
    assert guideline.metadata["audience_stated"] is False


def test_a_corpus_record_can_state_its_audience_and_a_wrong_one_fails_alone(
    store: KnowledgeStore, tmp_path: Path
) -> None:
    corpus = tmp_path / "kb.jsonl"
    records = [
        {"id": "faq", "text": GUIDELINE, "metadata": {"audience": "customer"}},
        {"id": "notes", "text": HELP_PAGE, "metadata": {"audience": "agent"}},
        {"id": "typo", "text": HELP_PAGE, "metadata": {"audience": "staff"}},
    ]
    corpus.write_text("\n".join(json.dumps(r) for r in records) + "\n")
    with Ingestor(store, HashEmbedder()) as ingestor:
        ingestor.run("acme", expand([_kept(tmp_path)]))
        results = ingestor.run("acme", expand([corpus]))
    assert _audiences(store, "faq") == {"customer"}
    assert _audiences(store, "notes") == {"agent"}
    faq, notes = store.get("acme", "faq"), store.get("acme", "notes")
    assert faq is not None and notes is not None
    assert faq.metadata["audience"] == "customer" and faq.metadata["audience_stated"] is True
    assert notes.metadata["audience"] == "agent" and notes.metadata["audience_stated"] is True
    failed = {r.document_id: r.error for r in results if r.status == "failed"}
    assert failed == {
        "kb.jsonl line 3": "kb.jsonl line 3 (id 'typo'): metadata 'audience' must be 'agent' or "
        "'customer' (who the document is written for); leave it out to have it detected"
    }
    assert store.get("acme", "typo") is None
    assert [d.document_id for d in store.list_documents("acme")] == ["faq", "kept.md", "notes"]


def _kept(tmp_path: Path) -> Path:
    path = tmp_path / "kept.md"
    path.write_text(f"# Kept\n\n{HELP_PAGE}\n")
    return path


def test_documents_stored_under_another_audience_rule_are_processed_again(
    store: KnowledgeStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Documents ingested before the rule existed (or under an older one) have no verdict on
    their chunks; ingesting the same files again must record it, not report them unchanged."""
    path = tmp_path / "refunds-guideline.md"
    path.write_text(f"# Refunds\n\n{GUIDELINE}\n")
    with Ingestor(store, HashEmbedder()) as ingestor:
        monkeypatch.setattr(pipeline, "audience_signature", lambda: "audience-older-rule")
        assert [r.status for r in ingestor.run("acme", expand([path]))] == ["ingested"]
        monkeypatch.undo()
        assert [r.status for r in ingestor.run("acme", expand([path]))] == ["replaced"]
        assert [r.status for r in ingestor.run("acme", expand([path]))] == ["unchanged"]
    assert store.get("acme", "refunds-guideline.md").version == 2  # type: ignore[union-attr]
    assert _audiences(store, "refunds-guideline.md") == {"agent"}
