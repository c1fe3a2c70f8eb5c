"""Retention through the real CLI, proven by the bytes: conversations made through the real
HTTP API hold canary values; `clearline retention run --now` before the rule's age leaves
them, `--dry-run` past it changes nothing, and a run past it leaves no byte of them in any
file under the data directory, while a conversation a more specific rule keeps longer stays
until its own age. An invalid policy is refused naming the rule and field."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import LiveServer
from tests.privacy.canary import EMAIL, NAME, PHONE, SENTENCE, STEMS, clearline, occurrences, upload
from tests.privacy.conversation_rows import dump
from tests.privacy.identified import RETURNS, SHIPPING, EndUser, settings

WIDGET_CANARY = "Philippa Gornwhistle"
CANARIES = (NAME, EMAIL, PHONE, SENTENCE, *STEMS)
POLICY = """rules:
  - {name: default, applies_to: conversations, older_than_days: 30}
  - {name: widget, applies_to: conversations, where: {channel: widget}, older_than_days: 60}
"""


def retention(data_dir: Path, *args: str) -> dict[str, Any]:
    done = clearline("retention", *args, "--tenant", "acme", "--json", data_dir=data_dir)
    assert done.returncode == 0, done.stderr
    printed: dict[str, Any] = json.loads(done.stdout)
    return printed


def at(days: float) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat()


@pytest.mark.slow
def test_retention_run_removes_every_byte_past_the_rules_age_only(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with LiveServer(settings(data_dir)) as live:
        runtime = live.runtime
        runtime.tenants.create("acme", "eu")
        admin = runtime.tenants.create_key("acme", "admin")
        backend = runtime.tenants.create_key("acme", "end_user", asserts_identity=True)
        upload(live.url, admin, {"returns.md": RETURNS, "shipping.md": SHIPPING})
        api = EndUser(live.url, backend, "cust-api-1").start()
        api.say(f"I am {NAME} ({EMAIL}, {PHONE}); how long do I have to return an item?")
        api.say(f"My friend said: {SENTENCE} Is that right?")
        widget = EndUser(live.url, backend, "cust-widget-2", channel="widget").start()
        widget.say(f"{WIDGET_CANARY} here: how long does shipping to Canada take?")

    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY)
    assert retention(data_dir, "set", "--policy", str(policy))["version"] == 1
    shown = retention(data_dir, "show")
    assert [r["name"] for r in shown["policy"]["rules"]] == ["default", "widget"]

    # An invalid policy is refused, naming the rule and field; the stored one stays.
    bad = tmp_path / "bad.yaml"
    bad.write_text(POLICY.replace("older_than_days: 60", "older_than_days: -1"))
    refused = clearline(
        "retention", "set", "--tenant", "acme", "--policy", str(bad), data_dir=data_dir
    )
    assert refused.returncode == 1
    assert "rule 'widget' (rules[1]), field 'older_than_days'" in refused.stderr
    assert retention(data_dir, "show")["version"] == 1
    # So are a yes for a number of days, an empty policy file and a moment no run may
    # stand at (the last two as over HTTP).
    bad.write_text(POLICY.replace("older_than_days: 60", "older_than_days: yes"))
    refused = clearline(
        "retention", "set", "--tenant", "acme", "--policy", str(bad), data_dir=data_dir
    )
    assert refused.returncode == 1
    assert "field 'older_than_days': write a number of days, e.g. 30, not true" in refused.stderr
    empty = tmp_path / "empty.yaml"
    empty.write_text("# rules to come\n")
    refused = clearline(
        "retention", "set", "--tenant", "acme", "--policy", str(empty), data_dir=data_dir
    )
    assert refused.returncode == 1
    assert "the policy is empty; send `rules: []` to remove every rule" in refused.stderr
    refused = clearline("retention", "run", "--tenant", "acme", "--now", "9999-01-01T00:00:00Z",
                        data_dir=data_dir)  # fmt: skip
    assert refused.returncode == 1 and "is out of range: a retention run accepts" in refused.stderr
    assert retention(data_dir, "show")["version"] == 1

    before = retention(data_dir, "run", "--now", at(29))
    assert before["counts"] == {} and before["policy_version"] == 1
    assert occurrences(data_dir, CANARIES) != []

    contents = dump(data_dir / "regions" / "eu" / "clearline.db")
    dry = retention(data_dir, "run", "--now", at(31), "--dry-run")
    assert dry["dry_run"] and dry["counts"]["conversations"] == 1 and dry["operation"] is None
    assert dump(data_dir / "regions" / "eu" / "clearline.db") == contents, "a dry run changed it"

    past = retention(data_dir, "run", "--now", at(31))
    assert past["counts"] == dry["counts"] and past["rules"] == {"default": 1}
    assert past["counts"]["messages"] == 4 and past["counts"]["traces"] == 2
    left = occurrences(data_dir, CANARIES)
    assert left == [], left
    assert occurrences(data_dir, (WIDGET_CANARY,)) != []  # its rule keeps it 60 days

    later = retention(data_dir, "run", "--now", at(61))
    assert later["rules"] == {"widget": 1}
    assert occurrences(data_dir, (*CANARIES, WIDGET_CANARY, "cust-api-1", "cust-widget-2")) == []
