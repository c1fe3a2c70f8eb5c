"""`clearline ingest --json` says which tenant it wrote to and whether it created it (before,
only stderr said `created tenant ...`, so a script reading the JSON could not tell a typo'd
tenant from an existing one)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.service.test_cli_bad_input import clearline


def test_ingest_json_reports_the_tenant_and_whether_it_was_created(tmp_path: Path) -> None:
    data_dir, faq = tmp_path / "data", tmp_path / "faq.md"
    faq.write_text("# FAQ\n\nReturns are free within 30 days of delivery.\n", encoding="utf-8")
    first = clearline("ingest", str(faq), "--tenant", "acmee", "--json", data_dir=data_dir)
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["tenant"] == {"name": "acmee", "region": "eu", "created": True}
    again = clearline("ingest", str(faq), "--tenant", "acmee", "--json", data_dir=data_dir)
    assert again.returncode == 0, again.stderr
    shown = json.loads(again.stdout)
    assert shown["tenant"] == {"name": "acmee", "region": "eu", "created": False}
    assert shown["totals"]["unchanged"] == 1
