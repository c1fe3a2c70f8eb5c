"""`clearline` as a user runs it: a real subprocess on a real data directory."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from service.lock import DataDirLock
from tests.conftest import DATA


def clearline(*args: str, data_dir: Path, **settings: str) -> subprocess.CompletedProcess[str]:
    """`clearline ARGS` on `data_dir`, with any further CLEARLINE_* variables in `settings`."""
    env = {**os.environ, "CLEARLINE_DATA_DIR": str(data_dir), **settings}
    return subprocess.run(
        [sys.executable, "-m", "service.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )


VALID = ("returns-policy.pdf", "shipping.docx", "warranty.html", "account-help.md", "contact.txt")
BAD = ("corrupt.pdf", "empty.txt", "encrypted.pdf", "image.png")


@pytest.fixture
def mixed_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "mixed"
    folder.mkdir()
    for name in VALID:
        shutil.copy(DATA / "valid" / name, folder / name)
    for name in BAD:
        shutil.copy(DATA / "bad" / name, folder / name)
    return folder


@pytest.mark.slow
def test_ingest_folder_twice(mixed_folder: Path, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    first = clearline("ingest", str(mixed_folder), "--tenant", "acme", "--json", data_dir=data_dir)
    assert first.returncode == 1, first.stderr
    assert "ingest" in first.stderr  # the progress bar
    report: dict[str, Any] = json.loads(first.stdout)
    by_id = {d["document_id"]: d for d in report["documents"]}
    for name in VALID:
        assert by_id[name]["status"] == "ingested" and by_id[name]["chunks"] > 0
    for name in BAD:
        assert by_id[name]["status"] == "failed"
        assert name in by_id[name]["error"]
    assert report["totals"]["failed"] == 4 and report["totals"]["ingested"] == 5

    second = clearline("ingest", str(mixed_folder), "--tenant", "acme", "--json", data_dir=data_dir)
    again = {d["document_id"]: d for d in json.loads(second.stdout)["documents"]}
    for name, doc in by_id.items():
        if doc["status"] == "ingested":
            assert again[name]["status"] == "unchanged"
            assert again[name]["chunks"] == doc["chunks"]

    listed = clearline("sources", "--tenant", "acme", "--json", data_dir=data_dir)
    assert listed.returncode == 0
    assert sorted(s["document_id"] for s in json.loads(listed.stdout)["sources"]) == sorted(
        n for n, d in by_id.items() if d["status"] == "ingested"
    )
    deleted = clearline("delete-source", "contact.txt", "--tenant", "acme", data_dir=data_dir)
    assert deleted.returncode == 0
    listed = json.loads(
        clearline("sources", "--tenant", "acme", "--json", data_dir=data_dir).stdout
    )
    assert "contact.txt" not in [s["document_id"] for s in listed["sources"]]
    missing = clearline("delete-source", "contact.txt", "--tenant", "acme", data_dir=data_dir)
    assert missing.returncode == 1 and "no knowledge source 'contact.txt'" in missing.stderr


@pytest.mark.slow
def test_all_good_exits_zero_and_corpus_ids_are_kept(tmp_path: Path) -> None:
    corpus = tmp_path / "c.jsonl"
    corpus.write_text(
        "\n".join(
            json.dumps(
                {
                    "id": f"https://example.test/page-{i}",
                    "title": f"Page {i}",
                    "text": f"Passage {i} explains rule {i} of the returns policy.",
                }
            )
            for i in range(30)
        )
        + "\n"
    )
    done = clearline(
        "ingest", str(corpus), "--tenant", "acme", "--json", data_dir=tmp_path / "data"
    )
    assert done.returncode == 0, done.stderr
    ids = [d["document_id"] for d in json.loads(done.stdout)["documents"]]
    assert ids == [f"https://example.test/page-{i}" for i in range(30)]


def test_second_process_is_refused_while_the_directory_is_owned(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with DataDirLock(data_dir, "clearline serve", "http://127.0.0.1:9999"):
        refused = clearline("sources", "--tenant", "acme", data_dir=data_dir)
    assert refused.returncode == 1
    assert "is in use by `clearline serve`" in refused.stderr
    assert "http://127.0.0.1:9999/v1/knowledge/sources" in refused.stderr


def test_bad_settings_and_arguments_have_clear_messages(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    bad_region = clearline("tenant", "create", "acme", "--region", "mars", data_dir=data_dir)
    assert bad_region.returncode == 2 and "invalid choice: 'mars'" in bad_region.stderr
    bad_name = clearline("tenant", "create", "Acme Corp", "--region", "eu", data_dir=data_dir)
    assert bad_name.returncode == 1 and "3-40 lowercase letters" in bad_name.stderr
    made = clearline("tenant", "create", "acme", "--region", "eu", data_dir=data_dir)
    assert made.returncode == 0
    twice = clearline("tenant", "create", "acme", "--region", "eu", data_dir=data_dir)
    assert twice.returncode == 1 and "already exists" in twice.stderr
    no_tenant = clearline(
        "key", "create", "--tenant", "nobody", "--role", "admin", data_dir=data_dir
    )
    assert no_tenant.returncode == 1 and "tenant 'nobody' does not exist" in no_tenant.stderr
    # session 44: "tenant 't2' does not exist; create it with `clearline tenant create t2`",
    # a command that is refused: a name no tenant can have gets the naming rule instead
    for command in (("sources",), ("ask", "hello?"), ("key", "create", "--role", "admin")):
        invalid = clearline(*command, "--tenant", "t2", data_dir=data_dir)
        assert invalid.returncode == 1, invalid.stderr
        assert "invalid tenant name 't2': use 3-40 lowercase letters" in invalid.stderr
        assert "tenant create" not in invalid.stderr
    env_bad = subprocess.run(
        [sys.executable, "-m", "service.cli", "sources", "--tenant", "acme"],
        capture_output=True,
        text=True,
        env={**os.environ, "CLEARLINE_DATA_DIR": str(data_dir), "CLEARLINE_MAX_FILE_MB": "-3"},
    )
    assert env_bad.returncode == 2 and "Traceback" not in env_bad.stderr
    assert "invalid setting (CLEARLINE_MAX_FILE_MB: Input should be greater than 0)" in (
        env_bad.stderr
    )
    listed = clearline("tenant", "list", "--json", data_dir=data_dir)
    assert json.loads(listed.stdout) == [{"name": "acme", "region": "eu"}]


def test_global_options_before_the_command_are_honoured(tmp_path: Path) -> None:
    """`clearline --data-dir D --json CMD` (the form `--help` shows) uses D and prints JSON,
    as `clearline CMD --data-dir D --json` does; neither touches the default directory."""
    default_dir = tmp_path / "default"
    before_dir, after_dir = tmp_path / "before", tmp_path / "after"
    made = clearline(
        "--data-dir", str(before_dir), "--json", "tenant", "create", "acme", "--region", "eu",
        data_dir=default_dir,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    assert json.loads(made.stdout)["name"] == "acme"
    made = clearline(
        "tenant", "create", "globex", "--region", "us", "--data-dir", str(after_dir), "--json",
        data_dir=default_dir,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    assert json.loads(made.stdout)["name"] == "globex"

    def names(*args: str) -> list[str]:
        listed = clearline(*args, data_dir=default_dir)
        assert listed.returncode == 0, listed.stderr
        return [tenant["name"] for tenant in json.loads(listed.stdout)]

    assert names("--json", "--data-dir", str(before_dir), "tenant", "list") == ["acme"]
    assert names("tenant", "list", "--json", "--data-dir", str(after_dir)) == ["globex"]
    assert names("--json", "tenant", "list") == []  # the default directory was never written


def test_a_data_directory_that_cannot_be_a_folder_is_refused(tmp_path: Path) -> None:
    """A file, a path under a file, or an empty value (which meant the current folder) is
    refused before anything is written, naming the option or the variable it came from."""
    data_dir = tmp_path / "data"
    made = clearline("tenant", "create", "acme", "--region", "eu", data_dir=data_dir)
    assert made.returncode == 0, made.stderr
    a_file = tmp_path / "notes.txt"
    a_file.write_text("not a folder")
    folder = "give a folder (it is created if missing)"
    cases: tuple[tuple[list[str], str | Path, str], ...] = (
        # (options, CLEARLINE_DATA_DIR, what the user reads)
        (["--data-dir", str(a_file)], data_dir, f"(--data-dir: Value error, '{a_file}' is a file"),
        (["--data-dir", str(a_file / "sub")], data_dir, f"'{a_file}' is a file; {folder}); fix"),
        (["--data-dir", ""], data_dir, f"(--data-dir: Value error, it is empty; {folder}); fix"),
        ([], "", f"(CLEARLINE_DATA_DIR: Value error, it is empty; {folder}); fix the environment"),
    )
    for options, variable, message in cases:
        refused = subprocess.run(
            [sys.executable, "-m", "service.cli", *options, "tenant", "list"],
            capture_output=True, text=True, cwd=tmp_path,
            env={**os.environ, "CLEARLINE_DATA_DIR": str(variable)},
        )  # fmt: skip
        assert refused.returncode == 2 and "Traceback" not in refused.stderr, refused.stderr
        assert refused.stderr.startswith("error: invalid setting (") and message in refused.stderr
    assert a_file.read_text() == "not a folder"
    assert not (tmp_path / "clearline.db").exists()  # nothing written in the current folder
    listed = clearline("tenant", "list", data_dir=data_dir)
    assert listed.returncode == 0 and "acme" in listed.stdout


def test_files_that_cannot_be_read_or_written_get_one_line_and_data_is_kept(
    tmp_path: Path,
) -> None:
    """Found by probing the CLI: `--out` at a store inside the data directory emptied that
    region's database, and unreadable inputs showed tracebacks. Each now gets one `error:`
    line, exit 1, and the data directory still works."""
    data_dir = tmp_path / "data"
    made = clearline("tenant", "create", "acme", "--region", "eu", data_dir=data_dir)
    assert made.returncode == 0, made.stderr
    store = data_dir / "regions" / "eu" / "clearline.db"
    before = store.read_bytes()
    not_utf8, deep = tmp_path / "latin1.jsonl", tmp_path / "deep.jsonl"
    not_utf8.write_bytes(b'{"id": "a", "question": "caf\xe9?"}\n')
    deep.write_text("[" * 100_000 + "\n")
    cases = {
        ("audit", "export", "--tenant", "acme", "--out", str(store)):
            f"--out {store} is inside the data directory {data_dir}; write it elsewhere",
        ("training", "export", "--tenant", "acme", "--out", str(tmp_path)):
            f"--out {tmp_path} is a folder; name a file in it",
        ("qa", "golden-export", "--tenant", "acme", "--out", ""): "--out is empty; name a file",
        ("qa", "golden-import", str(tmp_path / "missing.jsonl"), "--tenant", "acme"):
            f"{tmp_path / 'missing.jsonl'}: No such file or directory",
        ("qa", "golden-import", str(not_utf8), "--tenant", "acme"):
            "a file is not UTF-8 text (byte 28 cannot be decoded); save it as UTF-8",
        ("qa", "golden-import", str(deep), "--tenant", "acme"):
            "a line is nested too deeply to read",
        ("ask", "   ", "--tenant", "acme"): "the question is empty; ask it in words",
        # session 44: a folder was "questions file '...' does not exist"
        ("eval", "answers", "--tenant", "acme", "--questions", str(tmp_path)):
            f"questions file '{tmp_path}' is a folder; name a JSONL file in it",
        ("eval", "retrieval", "--tenant", "acme", "--questions", str(tmp_path / "none.jsonl")):
            f"questions file '{tmp_path / 'none.jsonl'}' does not exist",
        ("trace", "abc", "--tenant", "ghost"): "tenant 'ghost' does not exist",
        ("ask", "why? " * 1000, "--tenant", "acme"):
            "the question is 5,000 characters; keep it to 4,000, as the API does",
    }  # fmt: skip
    for args, message in cases.items():
        failed = clearline(*args, data_dir=data_dir)
        assert failed.returncode == 1, (args, failed.stderr)
        assert failed.stderr.startswith(f"error: {message}"), (args, failed.stderr)
        assert "Traceback" not in failed.stderr
    assert store.read_bytes() == before
    listed = clearline("tenant", "list", data_dir=data_dir)
    assert listed.returncode == 0 and "acme" in listed.stdout
    exported = clearline("qa", "golden-export", "--tenant", "acme", "--out",
                         str(tmp_path / "new" / "golden.jsonl"), data_dir=data_dir)  # fmt: skip
    assert exported.returncode == 0 and (tmp_path / "new" / "golden.jsonl").exists()


def test_ingest_states_who_files_are_written_for_and_sources_shows_it(tmp_path: Path) -> None:
    data = tmp_path / "data"
    contact = str(DATA / "valid" / "contact.txt")
    first = clearline("ingest", contact, "--tenant", "acme", data_dir=data)
    assert first.returncode == 0, first.stderr
    listed = clearline("sources", "--tenant", "acme", data_dir=data)
    assert "contact.txt  v1  " in listed.stdout and "for customer (detected)" in listed.stdout

    wrong = clearline("ingest", contact, "--tenant", "acme", "--audience", "staff", data_dir=data)
    assert wrong.returncode == 2
    assert "argument --audience: invalid choice: 'staff'" in wrong.stderr, wrong.stderr
    assert "'agent', 'customer'" in wrong.stderr
    unchanged = clearline("sources", "--tenant", "acme", data_dir=data)
    assert unchanged.stdout == listed.stdout  # nothing stored by the refused command

    stated = clearline("ingest", contact, "--tenant", "acme", "--audience", "agent", data_dir=data)
    assert stated.returncode == 0, stated.stderr
    assert stated.stdout.startswith("replaced"), stated.stdout  # same bytes, processed again
    now = clearline("sources", "--tenant", "acme", data_dir=data)
    assert "contact.txt  v2  " in now.stdout and "for agent (stated)" in now.stdout
