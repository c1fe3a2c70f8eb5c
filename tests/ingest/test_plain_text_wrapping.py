"""A plain-text file's hard-wrapped lines are one sentence again: a line broken mid-sentence
was quoted from its break ("5:00 pm, closed Sundays ..." for the demo's opening hours). List
items, short lines and lines that end a sentence keep their own line."""

from __future__ import annotations

from pathlib import Path

from ingest.parse import parse

WRAPPED = """Store hours

Support hours (US Eastern): Monday to Friday 8:00 am to 8:00 pm, Saturday 9:00 am to
5:00 pm, closed Sundays and public holidays (messages are answered the next working day).
Support channels:
- Live chat on every page of northwind-outfitters.example, during support hours
- Phone +1 555 0100 (fictional number), during support hours
Have your full name or account ID and your order ID ready when you contact us. We never
ask for your full card number or your password by chat, email or phone.

You can apply if:
you're 18 or over
you live in England
"""


def test_a_line_broken_mid_sentence_is_joined_and_list_items_are_not(tmp_path: Path) -> None:
    path = tmp_path / "hours.txt"
    path.write_text(WRAPPED, encoding="utf-8")
    texts = [element.text for element in parse("txt", "hours.txt", path=path)]
    assert texts[0] == "Store hours"
    lines = texts[1].split("\n")
    assert lines == [
        "Support hours (US Eastern): Monday to Friday 8:00 am to 8:00 pm, Saturday 9:00 am to "
        "5:00 pm, closed Sundays and public holidays (messages are answered the next working day).",
        "Support channels:",
        "- Live chat on every page of northwind-outfitters.example, during support hours",
        "- Phone +1 555 0100 (fictional number), during support hours",
        "Have your full name or account ID and your order ID ready when you contact us. We never "
        "ask for your full card number or your password by chat, email or phone.",
    ]
    assert texts[2].split("\n") == ["You can apply if:", "you're 18 or over", "you live in England"]


def test_corpus_text_records_keep_their_lines() -> None:
    """Corpus records (the dev sets' passages) are read as they were given."""
    text = "Saturday 9:00 am to a long line that goes on for quite a while and on\n5:00 pm"
    assert parse("corpus-text", "rec", text=text)[0].text == text
