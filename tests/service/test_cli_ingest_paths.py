"""`clearline ingest` of files and folders: a document id taken from a file's name or its
path in a folder follows the rules of a corpus id (at most 200 characters, one printable
line), and a link to a folder inside an ingested folder is listed with why it was skipped.

Found by probing: a file named with a tab, with bytes that are not UTF-8, or nested 216
characters deep was stored under that id (only corpus ids were checked), and a link to a
folder was passed over without a word."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.service.test_cli_bad_input import clearline

TOO_LONG = "document ids are at most 200 characters, as uploaded file names are"
NOT_ONE_LINE = (
    "contains a control character, line break or bytes that are not UTF-8 text; document ids "
    "must be one line of printable text"
)


def _sources(data_dir: Path) -> list[str]:
    listed = clearline("sources", "--tenant", "acme", "--json", data_dir=data_dir)
    assert listed.returncode == 0, listed.stderr
    return [f"{s['document_id']} v{s['version']}" for s in json.loads(listed.stdout)["sources"]]


@pytest.mark.slow
def test_file_and_folder_ids_get_the_corpus_id_rules(tmp_path: Path) -> None:
    docs, data_dir = tmp_path / "docs", tmp_path / "data"
    docs.mkdir()
    (docs / "faq.md").write_text("# FAQ\n\nReturns take 30 days.\n")
    first = clearline("ingest", str(docs), "--tenant", "acme", data_dir=data_dir)
    assert first.returncode == 0, first.stderr
    before = _sources(data_dir)
    assert before == ["faq.md v1"]

    deep = docs / ("a" * 60) / ("b" * 60) / ("c" * 60)
    deep.mkdir(parents=True)
    (deep / ("d" * 30 + ".md")).write_text("# Deep\n\nShipping is free.\n")  # id: 216 chars
    (docs / "tab\there.md").write_text("# Tab\n\nShipping is free.\n")
    with open(os.fsencode(docs) + b"/bad\xff.md", "wb") as handle:  # not UTF-8
        handle.write(b"# Bad\n\nShipping is free.\n")
    (docs / "new.md").write_text("# New\n\nExchanges take 14 days.\n")
    long_name = tmp_path / ("x" * 198 + ".md")  # a single file's id is its name: 201 chars
    long_name.write_text("# Long\n\nShipping is free.\n")
    ok_name = tmp_path / ("y" * 197 + ".md")  # 200 characters is still fine
    ok_name.write_text("# Fine\n\nShipping is free.\n")

    done = clearline("ingest", str(docs), str(long_name), str(ok_name), "--tenant", "acme",
                     data_dir=data_dir)  # fmt: skip
    assert done.returncode == 1, done.stderr
    deep_file = f"{deep}/{'d' * 30}.md"
    assert done.stdout.splitlines() == [
        f"failed       0  {deep_file}",
        f"          cannot ingest '{deep_file}': its document id (its path in the folder) is "
        f"216 characters; {TOO_LONG}; shorten the file's name or the folders on its path",
        f"failed       0  {docs}/bad\\udcff.md",
        f"          cannot ingest '{docs}/bad\\udcff.md': its document id 'bad\\udcff.md' "
        f"{NOT_ONE_LINE}; rename the file",
        f"unchanged    1  {docs}/faq.md",
        f"ingested     1  {docs}/new.md",
        f"failed       0  {docs}/tab\\there.md",
        f"          cannot ingest '{docs}/tab\\there.md': its document id 'tab\\there.md' "
        f"{NOT_ONE_LINE}; rename the file",
        f"failed       0  {long_name}",
        f"          cannot ingest '{long_name}': its document id (its file name) is 201 "
        f"characters; {TOO_LONG}; shorten the file's name",
        f"ingested     1  {ok_name}",
        "2 ingested, 1 unchanged, 0 replaced, 4 failed, 7 documents, 3 chunks",
    ]
    assert _sources(data_dir) == sorted([*before, "new.md v1", f"{ok_name.name} v1"])

    shown = clearline("ingest", str(docs / "tab\there.md"), "--tenant", "acme", "--json",
                      data_dir=data_dir)  # fmt: skip
    assert shown.returncode == 1, shown.stderr
    [document] = json.loads(shown.stdout)["documents"]
    assert document["status"] == "failed" and document["document_id"] == "tab\there.md"
    assert document["error"] == (
        f"cannot ingest '{docs}/tab\\there.md': its document id 'tab\\there.md' "
        f"{NOT_ONE_LINE}; rename the file"
    )


@pytest.mark.slow
def test_a_link_to_a_folder_is_listed_as_not_followed(tmp_path: Path) -> None:
    docs, old, data_dir = tmp_path / "docs", tmp_path / "old", tmp_path / "data"
    (docs / "policies").mkdir(parents=True)
    old.mkdir()
    (docs / "policies" / "faq.md").write_text("# FAQ\n\nReturns take 30 days.\n")
    (old / "legacy.md").write_text("# Legacy\n\nReturns took 60 days.\n")
    (docs / "archive").symlink_to(old)  # a folder outside
    (docs / "policies" / "again").symlink_to(docs / "policies")  # and one inside

    done = clearline("ingest", str(docs), "--tenant", "acme", data_dir=data_dir)
    assert done.returncode == 1, done.stderr
    not_followed = "links to folders are not followed; ingest that folder on its own, or copy"
    assert done.stdout.splitlines() == [
        f"failed       0  {docs}/archive",
        f"          skipped '{docs}/archive': it is a link to the folder {old}; {not_followed} "
        "its files in",
        f"failed       0  {docs}/policies/again",
        f"          skipped '{docs}/policies/again': it is a link to the folder "
        f"{docs}/policies; {not_followed} its files in",
        f"ingested     1  {docs}/policies/faq.md",
        "1 ingested, 0 unchanged, 0 replaced, 2 failed, 3 documents, 1 chunks",
    ]
    assert _sources(data_dir) == ["policies/faq.md v1"]

    shown = clearline("ingest", str(docs), "--tenant", "acme", "--json", data_dir=data_dir)
    assert shown.returncode == 1, shown.stderr
    body = json.loads(shown.stdout)
    assert body["documents"][0] == {
        "source": f"{docs}/archive",
        "document_id": "archive",
        "status": "failed",
        "chunks": 0,
        "error": f"skipped '{docs}/archive': it is a link to the folder {old}; {not_followed} "
        "its files in",
        "flagged": 0,
    }
    assert body["totals"]["failed"] == 2 and body["totals"]["unchanged"] == 1
