"""A tenant's customer-control settings: consent mode, privacy notice and its version,
training use. A tenant without a stored row has the defaults (consent `notice`, notice
version "1" with the agent configuration's privacy notice, training use `denied`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, get_args

from sqlalchemy.orm import Session, sessionmaker

from agent.config import control_characters, invisible_character, invisible_message, is_blank
from control.errors import BadRequest
from control.models import utcnow
from control.models_customer import CustomerSettingsRecord
from control.regional import tenant_regions

ConsentMode = Literal["notice", "required"]
TrainingUse = Literal["allowed", "denied"]
FIELDS = ("consent", "notice_text", "notice_version", "training_use")


@dataclass(frozen=True)
class CustomerSettings:
    tenant: str
    consent: str = "notice"
    notice_text: str | None = None  # None: the agent configuration's privacy notice
    notice_version: str = "1"
    training_use: str = "denied"
    updated_by: str | None = None
    updated_at: str | None = None

    def as_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _settings(row: CustomerSettingsRecord | None, tenant: str) -> CustomerSettings:
    if row is None:
        return CustomerSettings(tenant)
    return CustomerSettings(
        tenant, row.consent, row.notice_text, row.notice_version, row.training_use,
        row.updated_by, row.updated_at.isoformat(),
    )  # fmt: skip


def _validated(changes: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(changes) - set(FIELDS))
    if unknown:
        raise BadRequest(f"unknown setting(s) {', '.join(unknown)}; known: {', '.join(FIELDS)}")
    allowed = {"consent": get_args(ConsentMode), "training_use": get_args(TrainingUse)}
    for name, values in allowed.items():
        if name in changes and changes[name] not in values:
            raise BadRequest(f"{name} must be one of {', '.join(values)}, not {changes[name]!r}")
    version = changes.get("notice_version")
    if "notice_version" in changes and (not isinstance(version, str) or not 0 < len(version) <= 40):
        raise BadRequest('notice_version must be a string of 1-40 characters, e.g. "2"')
    text = changes.get("notice_text")
    if text is not None and (not isinstance(text, str) or len(text) > 20_000):
        raise BadRequest("notice_text must be text of at most 20000 characters (or null)")
    if text is not None:
        _check_notice(text)
    return changes


def _check_notice(text: str) -> None:
    """The rules of the agent configuration's privacy notice (agent/config.py); null, not
    blank text, is how a tenant shows that notice instead of its own."""
    if is_blank(text):
        raise BadRequest(
            "notice_text must not be blank; send null to show the agent configuration's "
            "privacy notice"
        )
    if control_characters(text, allowed="\r\n\t"):
        raise BadRequest(
            "notice_text must not hold control characters other than line breaks and tabs "
            "(such as NUL); write it as plain text"
        )
    found = invisible_character(text)
    if found is not None:
        raise BadRequest(invisible_message("notice_text", found))


@tenant_regions
class CustomerControls:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def get(self, tenant: str) -> CustomerSettings:
        with self._sessions() as session:
            return _settings(session.get(CustomerSettingsRecord, tenant), tenant)

    def update(self, tenant: str, changes: dict[str, Any], actor: str) -> CustomerSettings:
        """Apply `changes` (validated first: a bad one changes nothing)."""
        changes = _validated(dict(changes))
        with self._sessions.begin() as session:
            row = session.get(CustomerSettingsRecord, tenant)
            if row is None:
                row = CustomerSettingsRecord(tenant=tenant, consent="notice", notice_version="1",
                                             training_use="denied", updated_by=actor)  # fmt: skip
                session.add(row)
            for name, value in changes.items():
                setattr(row, name, value)
            row.updated_by = actor
            row.updated_at = utcnow()
            session.flush()
            return _settings(row, tenant)
