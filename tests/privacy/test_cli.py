"""`clearline privacy detect` through the real CLI entry point, on real files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from service.cli import main

LINES: list[dict[str, str | int]] = [
    {
        "id": "m1",
        "text": "Hi, I'm Ana Silva, write to ana.silva@example.com or call +44 20 7946 0958.",
    },
    {"id": 2, "text": "Ship it to 1428 Elm Street, Springfield please."},
    {"id": "m3", "text": "What are your opening hours?"},
]


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_detect_prints_spans_with_offsets_into_each_text(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = _write(
        tmp_path / "in.jsonl", [json.dumps(r) for r in LINES[:2]] + ["", json.dumps(LINES[2])]
    )
    assert main(["privacy", "detect", "--input", str(source), "--json"]) == 0
    results = json.loads(capsys.readouterr().out)["results"]
    assert [r["id"] for r in results] == ["m1", 2, "m3"]
    texts = [str(record["text"]) for record in LINES]
    for text, result in zip(texts, results, strict=True):
        for span in result["spans"]:
            assert set(span) == {"start", "end", "entity_type", "score"}
            value = text[span["start"] : span["end"]]
            assert value and value == value.strip()
    first = {(texts[0][s["start"] : s["end"]], s["entity_type"]) for s in results[0]["spans"]}
    assert first == {
        ("Ana Silva", "PERSON"),
        ("ana.silva@example.com", "EMAIL_ADDRESS"),
        ("+44 20 7946 0958", "PHONE_NUMBER"),
    }
    assert [s["entity_type"] for s in results[1]["spans"]] == ["STREET_ADDRESS"]
    assert results[2]["spans"] == []


@pytest.mark.parametrize(
    ("bad_line", "message"),
    [
        ('{"id": "x", "text": "ok"', "line 2: not valid JSON"),
        ('["id", "text"]', "line 2: a JSON list, not an object"),
        ('{"text": "no id"}', 'line 2: "id" is missing'),
        ('{"id": "x", "text": 42}', 'line 2: "text" is missing or not a string'),
    ],
)
def test_a_bad_line_is_named_and_nothing_is_printed_as_results(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], bad_line: str, message: str
) -> None:
    source = _write(tmp_path / "in.jsonl", [json.dumps(LINES[0]), bad_line])
    assert main(["privacy", "detect", "--input", str(source), "--json"]) == 1
    captured = capsys.readouterr()
    assert message in captured.err and str(source) in captured.err
    error = json.loads(captured.out)["error"]
    assert error["code"] == "bad_request" and message in error["message"]
    assert "results" not in captured.out


def test_a_missing_file_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["privacy", "detect", "--input", str(tmp_path / "none.jsonl")]) == 1
    assert "no such file" in capsys.readouterr().err


def test_human_output_lists_values(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = _write(tmp_path / "in.jsonl", [json.dumps(LINES[1])])
    assert main(["privacy", "detect", "--input", str(source)]) == 0
    assert "STREET_ADDRESS" in capsys.readouterr().out
