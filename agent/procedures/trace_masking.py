"""Masking what a procedure turn records for the trace: personal slot values, fields whose
name says they are personal, and action secrets never reach a trace in the clear."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from agent.procedures.actions import ActionClient
from agent.procedures.model import Procedure, ProcedureState

# Fields masked whatever their value, in action inputs and outputs (matched in lower case).
PERSONAL_KEYS = frozenset(
    {"email", "name", "first_name", "last_name", "full_name", "customer_name", "phone",
     "address", "street_address", "full_address", "zip_code", "username", "pin", "password",
     "card", "card_number", "iban"}
)  # fmt: skip


class EventMasker:
    """Hides personal slot values, personal-looking fields and secrets in trace data."""

    def __init__(self, procedure: Procedure, state: ProcedureState, actions: ActionClient):
        self.actions = actions
        self.values = sorted(
            (
                (str(state.slots[slot]), f"<{slot}>")
                for slot, ask in procedure.slots().items()
                if ask.is_personal() and slot in state.slots and len(str(state.slots[slot])) >= 3
            ),
            key=lambda pair: -len(pair[0]),
        )

    def __call__(self, value: Any, key: str = "") -> Any:
        if key.lower() in PERSONAL_KEYS and value is not None and not isinstance(value, bool):
            return "<masked>"
        if isinstance(value, str):
            for raw, placeholder in self.values:
                value = value.replace(raw, placeholder)
            return self.actions.redact(value)
        if isinstance(value, Mapping):
            return {str(k): self(item, str(k)) for k, item in value.items()}
        if isinstance(value, list | tuple):
            return [self(item) for item in value]
        return value

    def events(self, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The events with their inputs, outputs and rule masked."""
        return [
            {**event, "inputs": self(event["inputs"]), "outputs": self(event["outputs"]),
             "rule": self(event["rule"])}
            for event in events
        ]  # fmt: skip
