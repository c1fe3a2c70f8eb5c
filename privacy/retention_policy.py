"""Retention policies: YAML rules saying how long a tenant keeps conversations and QA data.

    rules:
      - {name: default, applies_to: conversations, older_than_days: 30}
      - {name: disputes, applies_to: conversations, where: {intent: billing_dispute},
         older_than_days: 7}
      - {name: reviews, applies_to: reviews, older_than_days: 365}

`applies_to` is one of `conversations` (each with everything derived from it: messages,
traces and their scores, queue items, reviews, golden cases made from corrections),
`scores` (the QA scores inside traces), `reviews` (QA leads' reviews) or `golden_cases`
(cases made from corrections; imported cases are the company's own test set and stay).
`where` (conversations only) narrows a rule; each key takes one value or a list (any of):
`intent` (an intent the agent recognised in any message), `decision` (`answered`,
`clarify`, `handoff`, `draft`: any reply's decision; a conversation handed to a human also
counts as `handoff`), `tag` (a label a QA lead gave any of its replies) and `channel`.

Which rule applies: of the rules whose `where` the conversation matches, the most specific
one (most `where` keys); among equally specific ones the shortest `older_than_days`, then
the first listed. A conversation no rule matches is kept. A conversation's age is counted
from its last activity (its last message, or its last change of status).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from control.errors import BadRequest

AppliesTo = Literal["conversations", "scores", "reviews", "golden_cases"]
DecisionName = Literal["answered", "clarify", "handoff", "draft"]
WHERE_KEYS = ("intent", "decision", "tag", "channel")
MAX_RULES = 100
MAX_POLICY_BYTES = 64 * 1024


class RetentionPolicyError(BadRequest):
    """A policy that cannot be used as given; nothing was changed."""


def _one_or_many(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


class Where(BaseModel):
    """Conditions of a rule; every given key must match (any of its values)."""

    model_config = ConfigDict(extra="forbid")

    intent: list[str] | None = Field(None, min_length=1)
    decision: list[DecisionName] | None = Field(None, min_length=1)
    tag: list[str] | None = Field(None, min_length=1)
    channel: list[str] | None = Field(None, min_length=1)

    _many = field_validator(*WHERE_KEYS, mode="before")(_one_or_many)

    def given(self) -> list[str]:
        return [k for k in WHERE_KEYS if getattr(self, k) is not None]


class RetentionRule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
    applies_to: AppliesTo = "conversations"
    where: Where = Field(default_factory=Where)
    older_than_days: int = Field(ge=1, le=36500)

    @field_validator("older_than_days", mode="before")
    @classmethod
    def _days_not_yes(cls, value: Any) -> Any:
        if isinstance(value, bool):  # YAML reads yes/true/on as True, which int() takes as 1
            raise ValueError(f"write a number of days, e.g. 30, not {str(value).lower()}")
        return value

    @model_validator(mode="after")
    def _where_only_for_conversations(self) -> RetentionRule:
        if self.where.given() and self.applies_to != "conversations":
            raise ValueError(
                f"'where' narrows only rules for conversations, not {self.applies_to}; remove "
                "it or use applies_to: conversations"
            )
        return self

    @property
    def specificity(self) -> int:
        return len(self.where.given())


class RetentionPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rules: list[RetentionRule] = Field(default_factory=list, max_length=MAX_RULES)

    @model_validator(mode="after")
    def _unique_names(self) -> RetentionPolicy:
        seen: set[str] = set()
        for rule in self.rules:
            if rule.name in seen:
                raise ValueError(f"two rules are named '{rule.name}'; give each a unique name")
            seen.add(rule.name)
        return self

    def rules_for(self, applies_to: str) -> list[RetentionRule]:
        return [r for r in self.rules if r.applies_to == applies_to]


@dataclass(frozen=True)
class ConversationFacts:
    """What `where` can select a conversation by."""

    intents: frozenset[str]
    decisions: frozenset[str]
    tags: frozenset[str]
    channel: str


def matches(rule: RetentionRule, facts: ConversationFacts) -> bool:
    where = rule.where
    checks = (
        (where.intent, facts.intents),
        (where.decision, facts.decisions),
        (where.tag, facts.tags),
        (where.channel, frozenset({facts.channel})),
    )
    return all(wanted is None or not facts_set.isdisjoint(wanted) for wanted, facts_set in checks)


def rule_for(
    policy: RetentionPolicy, applies_to: str, facts: ConversationFacts | None = None
) -> RetentionRule | None:
    """The rule that decides (see the module docstring), or None when none matches."""
    candidates = [
        (index, rule)
        for index, rule in enumerate(policy.rules)
        if rule.applies_to == applies_to and (facts is None or matches(rule, facts))
    ]
    if not candidates:
        return None
    _, best = min(candidates, key=lambda c: (-c[1].specificity, c[1].older_than_days, c[0]))
    return best


def parse_policy(text: str) -> RetentionPolicy:
    """A policy from YAML (or JSON) text; RetentionPolicyError names the rule and field."""
    if len(text.encode("utf-8")) > MAX_POLICY_BYTES:
        raise RetentionPolicyError(
            f"the policy is over {MAX_POLICY_BYTES // 1024} KiB; a policy holds at most "
            f"{MAX_RULES} short rules"
        )
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise RetentionPolicyError(
            f"the policy is not valid YAML{where}: {getattr(error, 'problem', error)}; "
            "write it as 'rules: [{name: default, applies_to: conversations, "
            "older_than_days: 30}]'"
        ) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise RetentionPolicyError(
            f"the policy must be a mapping with a 'rules' list, not a {type(data).__name__}"
        )
    try:
        return RetentionPolicy.model_validate(data)
    except ValidationError as error:
        raise RetentionPolicyError(describe(error, data)) from None


def describe(error: ValidationError, data: dict[str, Any]) -> str:
    """The validation problems in words, each naming the rule (by name and position) and
    the field."""
    problems = []
    given = data.get("rules")
    raw_rules: list[Any] = given if isinstance(given, list) else []
    for item in error.errors()[:5]:
        loc = list(item["loc"])
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            message = "unknown field; " + _allowed(loc)
        if len(loc) >= 2 and loc[0] == "rules" and isinstance(loc[1], int):
            index = loc[1]
            raw = raw_rules[index] if index < len(raw_rules) else None
            name = raw.get("name") if isinstance(raw, dict) else None
            rule = f"rule '{name}' (rules[{index}])" if name else f"rules[{index}]"
            field = ".".join(str(p) for p in loc[2:] if not isinstance(p, int))
            problems.append(
                f"{rule}, field '{field}': {message}" if field else f"{rule}: {message}"
            )
        else:
            field = ".".join(str(p) for p in loc) or "policy"
            problems.append(f"{field}: {message}")
    more = len(error.errors()) - len(problems)
    suffix = f" (and {more} more)" if more > 0 else ""
    return "invalid retention policy, nothing changed: " + "; ".join(problems) + suffix


def _allowed(loc: list[Any]) -> str:
    if "where" in loc:
        return f"'where' takes {', '.join(WHERE_KEYS)}"
    if len(loc) >= 3:
        return "a rule takes name, applies_to, where, older_than_days"
    return "a policy takes only 'rules'"


def dump_policy(policy: RetentionPolicy) -> dict[str, Any]:
    """The policy as plain data, `where` keys that are unset left out."""
    rules = []
    for rule in policy.rules:
        entry: dict[str, Any] = {"name": rule.name, "applies_to": rule.applies_to}
        where = rule.where.model_dump(exclude_none=True)
        if where:
            entry["where"] = where
        entry["older_than_days"] = rule.older_than_days
        rules.append(entry)
    return {"rules": rules}


def refuse_empty(text: str) -> None:
    """RetentionPolicyError if `text` holds no policy at all (nothing, blanks, comments,
    `{}`): most likely a mistake, so setting it must not silently remove every rule. Invalid
    YAML is left to `parse_policy`, which says where it fails."""
    try:
        empty = not text.strip() or yaml.safe_load(text) in (None, {})
    except yaml.YAMLError:
        empty = False
    if empty:
        raise RetentionPolicyError("the policy is empty; send `rules: []` to remove every rule")


EARLIEST_RUN = datetime(2000, 1, 1, tzinfo=UTC)
LATEST_RUN_AHEAD = timedelta(days=366)


def run_moment(now: datetime | None) -> datetime | None:
    """`now` (naive = UTC) if a retention run may stand at it, else RetentionPolicyError: a
    moment before 2000 or over a year ahead is a mistake, and one far ahead would remove all
    data."""
    if now is None:
        return None
    moment = now if now.tzinfo is not None else now.replace(tzinfo=UTC)
    if not EARLIEST_RUN <= moment <= datetime.now(UTC) + LATEST_RUN_AHEAD:
        raise RetentionPolicyError(
            f"now {moment.isoformat()} is out of range: a retention run accepts a moment from "
            "2000-01-01 to one year after the clock; leave it out to use the clock"
        )
    return moment
