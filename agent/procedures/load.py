"""Loading procedure YAML files into a `ProcedureSet`, with checks that name the file.

A file is refused with `ProcedureError` for a YAML syntax error, an unknown step kind or
field, a `goto`/`next` to a missing step, a template or condition naming a slot nobody
collects, an action through a connection the tenant has not set up or to an origin
(scheme, host, port) that connection does not allow, or a last step that does not end.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from agent.procedures.connections import Connection, Origin
from agent.procedures.language import TEMPLATE, template_roots, value_roots
from agent.procedures.model import STEP_KINDS, Procedure, ProcedureError, Step

_STEP_FIELDS = set(Step.model_fields)


def url_origin(url: str) -> str:
    """The scheme-and-host part of a (possibly templated) URL: what decides where it goes."""
    start = url.find("://")
    rest_from = start + 3 if start >= 0 else 0
    leading = TEMPLATE.match(url)
    if start < 0 and leading is not None:
        rest_from = leading.end()
    slash = url.find("/", rest_from)
    return url if slash < 0 else url[:slash]


def _where(loc: Sequence[int | str], raw: Any) -> str:
    parts: list[str] = []
    for index, item in enumerate(loc):
        if isinstance(item, int):
            parts[-1:] = [f"{parts[-1] if parts else ''}[{item}]"]
            if index == 1 and loc[0] == "steps" and isinstance(raw, dict):
                steps = raw.get("steps")
                if isinstance(steps, list) and item < len(steps) and isinstance(steps[item], dict):
                    parts[-1] += f" (id '{steps[item].get('id', '?')}')"
        else:
            parts.append(str(item))
    return ".".join(parts) or "the file"


def _precheck_steps(raw: dict[str, Any]) -> None:
    steps = raw.get("steps")
    if not isinstance(steps, list):
        return
    for index, step in enumerate(steps):
        if not isinstance(step, dict):
            raise ValueError(f"steps[{index}] is not a mapping; each step is 'id: ...' plus a kind")
        unknown = sorted(set(map(str, step)) - _STEP_FIELDS - {"validate"})
        if unknown:
            label = f"step '{step.get('id', index)}'"
            if not any(kind in step for kind in STEP_KINDS):
                raise ValueError(
                    f"{label} has unknown kind '{unknown[0]}'; use one of {', '.join(STEP_KINDS)}"
                )
            raise ValueError(f"{label} has unknown field '{unknown[0]}'")


def _texts(step: Step) -> Iterator[tuple[str, Any]]:
    if step.ask is not None:
        yield "prompt", step.ask.prompt
        yield "invalid", step.ask.invalid
    if step.action is not None:
        yield "url", step.action.url
        yield "body", step.action.body
        yield "describe", step.action.describe
    yield "reply", step.reply
    yield "handoff", step.handoff
    yield "say", step.say


def check_procedure(
    procedure: Procedure, connections: Mapping[str, Connection], variables: Collection[str]
) -> frozenset[str]:
    """Cross-step checks; returns the run-time variables used. Raises ValueError."""
    ids = [step.id for step in procedure.steps]
    duplicates = sorted({step_id for step_id in ids if ids.count(step_id) > 1})
    if duplicates:
        raise ValueError(f"step id '{duplicates[0]}' is used twice; step ids must be unique")
    slots = set(procedure.slots())
    results = {step.save_as for step in procedure.steps if step.save_as is not None}
    if clash := sorted((slots & results) | ((slots | results) & set(variables))):
        raise ValueError(
            f"'{clash[0]}' names more than one of: a slot, a saved result, a run-time "
            "variable; rename one"
        )
    known = slots | results | set(variables)
    used: set[str] = set()
    for step in procedure.steps:
        targets = [step.next] + [rule.goto for rule in step.branch or []]
        targets += [step.on_error] if step.on_error not in (None, "continue") else []
        for target in targets:
            if target is not None and target not in ids:
                raise ValueError(
                    f"step '{step.id}' goes to '{target}', which is not a step; "
                    f"steps are: {', '.join(ids)}"
                )
        roots: set[str] = set()
        for field, text in _texts(step):
            found = value_roots(text)
            roots |= found
            if missing := sorted(found - known):
                raise ValueError(
                    f"step '{step.id}' {field} uses '{{{{{missing[0]}}}}}', but no ask step "
                    f"collects it, no action saves it and it is not a run-time variable "
                    f"(known: {', '.join(sorted(known)) or 'none'})"
                )
        for rule in step.branch or []:
            if rule.condition is not None:
                roots |= rule.condition.roots()
                if missing := sorted(rule.condition.roots() - known):
                    raise ValueError(
                        f"step '{step.id}' condition '{rule.when}' uses '{missing[0]}', which "
                        "no ask step collects and no action saves"
                    )
        used |= roots & set(variables)
        if step.action is not None:
            _check_url(step, connections)
        if procedure.following(step) is None and not step.terminal():
            raise ValueError(
                f"step '{step.id}' is the last step but does not end the procedure; give it "
                "'end: true' (reply), make it a handoff, add 'otherwise' (branch) or 'next'"
            )
    _check_examples(procedure)
    return frozenset(used)


def _check_url(step: Step, connections: Mapping[str, Connection]) -> None:
    assert step.action is not None
    action = step.action
    label = f"step '{step.id}' action '{action.name}'"
    connection = connections.get(action.connection)
    if connection is None:
        known = ", ".join(sorted(connections)) or "none"
        raise ValueError(
            f"{label} uses connection '{action.connection}', which this tenant has not set "
            f"up (set up: {known}); add the connection first"
        )
    url = action.url
    if url.startswith("/"):
        return  # appended to the connection's base URL; slot values in it are escaped
    origin = url_origin(url)
    if template_roots(origin):
        raise ValueError(
            f"{label} URL '{url}' chooses its host with a template; write the path after "
            f"the connection's base URL instead, e.g. url: /orders/lookup"
        )
    found = Origin.of(origin + "/")
    if found is None:
        raise ValueError(
            f"{label} URL '{url}' must be a path starting with / (after the connection's "
            "base URL) or an http(s) URL on one of the connection's origins"
        )
    if found not in connection.allowed:
        raise ValueError(
            f"{label} calls '{found}', which is not among the origins connection "
            f"'{connection.name}' allows ({', '.join(connection.origins())})"
        )


def _check_examples(procedure: Procedure) -> None:
    if isinstance(procedure.examples, list):
        if len(procedure.intents) > 1:
            raise ValueError(
                "with several intents, 'examples' must map each intent to its utterances"
            )
    elif stray := sorted(set(procedure.examples) - set(procedure.intents)):
        raise ValueError(f"examples are given for '{stray[0]}', which is not in 'intents'")
    for intent, utterances in procedure.examples_by_intent().items():
        if not [text for text in utterances if text.strip()]:
            raise ValueError(f"intent '{intent}' has no example utterances")


class _NoAliasLoader(yaml.SafeLoader):
    """YAML without aliases: nine aliases a level repeat a structure 9**depth times, so a
    few hundred bytes became minutes of checking and an action body that expands in memory
    on every call ("billion laughs"). Anchors alone are harmless and stay allowed."""

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()  # type: ignore[no-untyped-call]
            raise yaml.composer.ComposerError(
                problem="aliases (*name) are not allowed in a procedure; write the value out",
                problem_mark=event.start_mark,
            )
        return super().compose_node(parent, index)


def load_procedure(
    name: str,
    text: str,
    connections: Mapping[str, Connection],
    variables: Collection[str] = (),
) -> Procedure:
    """Parse and check one procedure file; `name` is used in every error message."""
    try:
        raw = yaml.load(text, Loader=_NoAliasLoader)  # a SafeLoader without aliases
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(error, "problem", None) or "syntax error"
        raise ProcedureError(f"procedure file '{name}': invalid YAML{where}: {problem}") from None
    if not isinstance(raw, dict):
        raise ProcedureError(f"procedure file '{name}': expected a mapping with id, title, steps")
    try:
        _precheck_steps(raw)
        procedure = Procedure.model_validate(raw)
        used = check_procedure(procedure, connections, variables)
    except ValidationError as error:
        first = error.errors()[0]
        message = str(first["msg"]).removeprefix("Value error, ")
        where = _where(first["loc"], raw)
        raise ProcedureError(f"procedure file '{name}': {where}: {message}") from None
    except ValueError as error:
        raise ProcedureError(f"procedure file '{name}': {error}") from None
    procedure._source = name
    procedure._variables = used
    return procedure


class ProcedureSet:
    """The procedures of one tenant, by id and by intent.

    >>> northwind = Connection("northwind", "http://127.0.0.1:8765")
    >>> procedures = ProcedureSet.load_dir(Path("examples/procedures"), {"northwind": northwind})
    >>> procedures.for_intent("recover_password")
    """

    def __init__(self, procedures: Sequence[Procedure]) -> None:
        self._by_id: dict[str, Procedure] = {}
        self._by_intent: dict[str, Procedure] = {}
        for procedure in procedures:
            if (other := self._by_id.get(procedure.id)) is not None:
                raise ProcedureError(
                    f"procedure file '{procedure.source}': id '{procedure.id}' is already used "
                    f"by '{other.source}'"
                )
            self._by_id[procedure.id] = procedure
            for intent in procedure.intents:
                if (other := self._by_intent.get(intent)) is not None:
                    raise ProcedureError(
                        f"procedure file '{procedure.source}': intent '{intent}' already "
                        f"triggers '{other.id}' ({other.source})"
                    )
                self._by_intent[intent] = procedure

    @classmethod
    def from_texts(
        cls,
        texts: Mapping[str, str],
        connections: Mapping[str, Connection],
        variables: Collection[str] = (),
    ) -> ProcedureSet:
        return cls([load_procedure(n, t, connections, variables) for n, t in texts.items()])

    @classmethod
    def load_dir(
        cls,
        path: Path,
        connections: Mapping[str, Connection],
        variables: Collection[str] = (),
    ) -> ProcedureSet:
        """Every `*.yaml` / `*.yml` file in `path` (not recursive), in name order."""
        if not path.is_dir():
            raise ProcedureError(f"procedure folder '{path}' does not exist")
        files = sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
        texts: dict[str, str] = {}
        for file in files:
            try:
                texts[file.name] = file.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as error:
                message = f"procedure file '{file.name}': cannot read: {error}"
                raise ProcedureError(message) from None
        return cls.from_texts(texts, connections, variables)

    def get(self, procedure_id: str) -> Procedure:
        try:
            return self._by_id[procedure_id]
        except KeyError:
            known = ", ".join(sorted(self._by_id)) or "none"
            raise ProcedureError(f"no procedure '{procedure_id}' (loaded: {known})") from None

    def for_intent(self, intent: str) -> Procedure | None:
        return self._by_intent.get(intent)

    def intent_examples(self) -> dict[str, list[str]]:
        """Intent name -> example utterances, to train the intent classifier."""
        examples: dict[str, list[str]] = {}
        for procedure in self._by_id.values():
            examples.update(procedure.examples_by_intent())
        return examples

    def __iter__(self) -> Iterator[Procedure]:
        return iter(self._by_id.values())

    def __len__(self) -> int:
        return len(self._by_id)
