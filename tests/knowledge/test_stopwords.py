"""Stop words are data (knowledge/stopwords.txt), read once, and leave keyword queries."""

from __future__ import annotations

from pathlib import Path

from knowledge.keyword_fts import STOPWORDS, load_stopwords, query_words


def test_a_stop_word_file_is_words_one_a_line_with_comments(tmp_path: Path) -> None:
    path = tmp_path / "stop.txt"
    path.write_text("# comment line\nthe\n\n  of  \n", encoding="utf-8")
    assert load_stopwords(path) == frozenset({"the", "of"})


def test_the_shipped_stop_words_leave_queries() -> None:
    assert {"the", "and", "of", "what"} <= STOPWORDS
    assert not any(word.startswith("#") or " " in word for word in STOPWORDS)
    assert query_words("What is the refund policy of the shop?") == ["refund", "policy", "shop"]
