"""Real parsing of every supported format, keeping headings and page numbers."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.parse import parse
from ingest.sources import Source, expand
from tests.conftest import DATA

VALID = DATA / "valid"


def _parse(name: str, kind: str) -> list:  # type: ignore[type-arg]
    return parse(kind, name, VALID / name)


def test_pdf_keeps_page_numbers() -> None:
    elements = _parse("returns-policy.pdf", "pdf")
    refund = [e for e in elements if "Refunds are issued within 5 business days" in e.text]
    assert refund and refund[0].page == 2
    assert {e.page for e in elements} == {1, 2}


@pytest.mark.parametrize(
    ("name", "kind", "section_word"),
    [
        ("shipping.docx", "docx", "International orders"),
        ("warranty.html", "html", ""),
        ("account-help.md", "md", ""),
    ],
)
def test_headings_become_section_paths(name: str, kind: str, section_word: str) -> None:
    elements = _parse(name, kind)
    body = [e for e in elements if e.category != "Title"]
    assert body, "no body text parsed"
    sections = {e.section for e in body}
    assert any(s for s in sections), f"no section recorded for {name}: {sections}"
    if section_word:
        assert any(section_word in s for s in sections)


def test_plain_text_paragraphs() -> None:
    elements = _parse("contact.txt", "txt")
    assert len(elements) >= 2 and all(e.text for e in elements)


def test_corpus_records_keep_their_ids_and_parse_html() -> None:
    items = list(expand([VALID / "small-corpus.jsonl"]))
    assert all(isinstance(i, Source) for i in items)
    assert [i.document_id for i in items] == [f"kb-00{n}" for n in range(1, 6)]
    html_record = next(i for i in items if isinstance(i, Source) and i.kind == "corpus-html")
    elements = parse(html_record.kind, html_record.display, text=html_record.text)
    assert elements and "<" not in " ".join(e.text for e in elements)


def test_folder_ids_are_relative_paths(tmp_path: Path) -> None:
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "a.md").write_text("# A\n\nText.")
    (tmp_path / ".hidden.md").write_text("# hidden")
    ids = [i.document_id for i in expand([tmp_path])]
    assert ids == ["policies/a.md"]


def test_a_folders_link_to_a_file_outside_it_is_refused(tmp_path: Path) -> None:
    """Found by probing: `clearline ingest docs/` followed docs/passwd.txt -> /etc/passwd.
    A link to a file inside the folder is still read; one outside is a failed source."""
    outside = tmp_path / "secret.txt"
    outside.write_text("root:x:0:0")
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "faq.md").write_text("# FAQ\n\nReturns take 30 days.")
    (docs / "faq-link.md").symlink_to(docs / "faq.md")
    (docs / "passwd.txt").symlink_to(outside)
    found = {s.document_id: s for s in expand([docs])}
    assert sorted(found) == ["faq-link.md", "faq.md", "passwd.txt"]
    assert isinstance(found["faq.md"], Source) and isinstance(found["faq-link.md"], Source)
    refused = found["passwd.txt"]
    assert not isinstance(refused, Source)
    assert str(refused.error) == (
        f"cannot ingest '{docs / 'passwd.txt'}': it links to {outside}, outside the folder; "
        "copy the file into the folder to ingest it"
    )


def test_a_folder_name_that_cannot_be_in_an_id_is_named_as_the_one_to_rename(
    tmp_path: Path,
) -> None:
    docs = tmp_path / "docs"
    (docs / "old\x1bpolicies").mkdir(parents=True)
    (docs / "old\x1bpolicies" / "faq.md").write_text("# FAQ\n\nReturns take 30 days.")
    [refused] = expand([docs])
    assert not isinstance(refused, Source) and refused.document_id == "old\x1bpolicies/faq.md"
    assert str(refused.error) == (
        f"cannot ingest '{docs}/old\\x1bpolicies/faq.md': its document id "
        "'old\\x1bpolicies/faq.md' contains a control character, line break or bytes that are "
        "not UTF-8 text; document ids must be one line of printable text; rename the folder "
        "on its path that holds it"
    )
