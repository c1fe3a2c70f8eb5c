"""Retention policies: YAML validation with errors that name the rule and field, and which
rule decides for a conversation (most `where` keys, then the shortest age, then order)."""

from __future__ import annotations

import pytest

from privacy.retention_policy import (
    ConversationFacts,
    RetentionPolicyError,
    dump_policy,
    parse_policy,
    rule_for,
)

EXAMPLE = """
rules:
  - {name: default, applies_to: conversations, older_than_days: 30}
  - {name: disputes, applies_to: conversations, where: {intent: billing_dispute},
     older_than_days: 7}
  - name: widget-handoffs
    applies_to: conversations
    where: {channel: widget, decision: [handoff, draft]}
    older_than_days: 90
  - {name: scores, applies_to: scores, older_than_days: 180}
  - {name: reviews, applies_to: reviews, older_than_days: 365}
"""


def facts(
    intents: tuple[str, ...] = (),
    decisions: tuple[str, ...] = ("answered",),
    tags: tuple[str, ...] = (),
    channel: str = "api",
) -> ConversationFacts:
    return ConversationFacts(frozenset(intents), frozenset(decisions), frozenset(tags), channel)


def test_the_example_policy_parses_and_reads_back() -> None:
    policy = parse_policy(EXAMPLE)
    assert [r.name for r in policy.rules] == [
        "default",
        "disputes",
        "widget-handoffs",
        "scores",
        "reviews",
    ]
    dumped = dump_policy(policy)
    assert dumped["rules"][1] == {
        "name": "disputes",
        "applies_to": "conversations",
        "where": {"intent": ["billing_dispute"]},
        "older_than_days": 7,
    }
    assert "where" not in dumped["rules"][0]
    assert parse_policy(str(dumped).replace("'", '"')) == policy  # JSON is YAML too


def test_the_most_specific_matching_rule_decides() -> None:
    policy = parse_policy(EXAMPLE)
    assert rule_for(policy, "conversations", facts()).name == "default"  # type: ignore[union-attr]
    dispute = facts(intents=("billing_dispute", "greeting"))
    assert rule_for(policy, "conversations", dispute).name == "disputes"  # type: ignore[union-attr]
    # Two keys beat one, even with a longer age: widget handoffs are kept 90 days.
    handoff = facts(intents=("billing_dispute",), decisions=("handoff",), channel="widget")
    chosen = rule_for(policy, "conversations", handoff)
    assert chosen is not None and chosen.name == "widget-handoffs"
    # Only one of the two keys matches: the two-key rule does not apply.
    api_handoff = facts(decisions=("handoff",), channel="api")
    assert rule_for(policy, "conversations", api_handoff).name == "default"  # type: ignore[union-attr]
    assert rule_for(policy, "scores").name == "scores"  # type: ignore[union-attr]
    assert rule_for(policy, "golden_cases") is None


def test_ties_go_to_the_shortest_age_then_the_first_listed() -> None:
    policy = parse_policy("""
rules:
  - {name: by-tag, where: {tag: complaint}, older_than_days: 60}
  - {name: by-channel, where: {channel: widget}, older_than_days: 14}
  - {name: same-age, where: {intent: refund}, older_than_days: 14}
""")
    both = facts(intents=("refund",), tags=("complaint",), channel="widget")
    assert rule_for(policy, "conversations", both).name == "by-channel"  # type: ignore[union-attr]
    only_tag = facts(tags=("complaint",))
    assert rule_for(policy, "conversations", only_tag).name == "by-tag"  # type: ignore[union-attr]
    assert rule_for(policy, "conversations", facts()) is None  # no rule matches: kept


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "rules:\n  - {name: quick, applies_to: conversations, older_than_days: 0}\n",
            "rule 'quick' (rules[0]), field 'older_than_days'",
        ),
        (
            "rules:\n  - {name: a, older_than_days: 5}\n  - {name: b, where: {tags: x}, "
            "older_than_days: 5}\n",
            "rule 'b' (rules[1]), field 'where.tags': unknown field; "
            "'where' takes intent, decision, tag, channel",
        ),
        (
            "rules:\n  - {name: s, applies_to: scores, where: {intent: x}, older_than_days: 5}\n",
            "rule 's' (rules[0]): 'where' narrows only rules for conversations",
        ),
        (
            "rules:\n  - {name: d, where: {decision: resolved}, older_than_days: 5}\n",
            "rule 'd' (rules[0]), field 'where.decision'",
        ),
        (
            "rules:\n  - {name: m, applies_to: messages, older_than_days: 5}\n",
            "rule 'm' (rules[0]), field 'applies_to'",
        ),
        (
            "rules:\n  - {name: a, older_than_days: 5}\n  - {name: a, older_than_days: 9}\n",
            "two rules are named 'a'",
        ),
        ("rules:\n  - {older_than_days: 5}\n", "rules[0], field 'name': Field required"),
        (  # YAML reads yes as true, which int() would take as 1 day
            "rules:\n  - {name: a, older_than_days: yes}\n",
            "rule 'a' (rules[0]), field 'older_than_days': write a number of days, e.g. 30, "
            "not true",
        ),
        ("rules: [{name: a, older_than_days: 5}\n", "not valid YAML at line"),
        ("- {name: a, older_than_days: 5}\n", "must be a mapping with a 'rules' list"),
        ("rule:\n  - {name: a, older_than_days: 5}\n", "rule: unknown field"),
    ],
)
def test_an_invalid_policy_is_refused_naming_the_rule_and_field(text: str, expected: str) -> None:
    with pytest.raises(RetentionPolicyError) as refused:
        parse_policy(text)
    assert expected in str(refused.value)


def test_an_empty_policy_keeps_everything() -> None:
    assert parse_policy("").rules == [] and parse_policy("rules: []").rules == []
