"""Consent before processing: with a tenant's `consent: required`, a conversation takes no
message until its end user has accepted the current privacy notice (by version). Until
then a message is refused with the notice text and version, and nothing is stored."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from agent.config import is_blank
from control.customer import CustomerControls
from control.errors import Conflict
from control.models_customer import ConsentAcceptance
from control.regional import tenant_regions


class ConsentRequired(Conflict):
    """The conversation's end user has not accepted the current notice (409 with it)."""

    def __init__(self, notice: str, notice_version: str, why: str) -> None:
        super().__init__(why)
        self.fields: dict[str, object] = {"notice": notice, "notice_version": notice_version}


@dataclass(frozen=True)
class Acceptance:
    conversation_id: str
    notice_version: str
    accepted_at: datetime


@tenant_regions
class ConsentGate:
    """`notice_of(tenant)` is the privacy notice shown when the tenant set no text of its own."""

    def __init__(self, sessions: sessionmaker[Session], notice_of: Callable[[str], str]) -> None:
        self._sessions = sessions
        self._controls = CustomerControls(sessions)
        self._notice_of = notice_of

    def notice(self, tenant: str) -> tuple[str, str]:
        """The tenant's current notice text and version."""
        settings = self._controls.get(tenant)
        own = settings.notice_text
        # Blank text (stored before notices had to be visible) counts as none of its own.
        if own is None or is_blank(own):
            return self._notice_of(tenant), settings.notice_version
        return own, settings.notice_version

    def check(self, tenant: str, conversation_id: str) -> None:
        """ConsentRequired unless the tenant only shows its notice or the conversation's end
        user accepted the current version."""
        if self._controls.get(tenant).consent != "required":
            return
        text, version = self.notice(tenant)
        if self._accepted(tenant, conversation_id, version):
            return
        raise ConsentRequired(
            text, version,
            f"accept privacy notice version {version} first: POST "
            f"/v1/conversations/{conversation_id}/consent with {{\"notice_version\": "
            f"\"{version}\"}}; nothing of this message was stored",
        )  # fmt: skip

    def accept(self, tenant: str, conversation_id: str, notice_version: str) -> Acceptance:
        """Record acceptance of the current notice; another version gets ConsentRequired
        with the current one (the end user must see what they accept)."""
        text, version = self.notice(tenant)
        if notice_version != version:
            raise ConsentRequired(
                text, version,
                f"notice version {notice_version!r} is not the current one ({version}); "
                "show the end user the current notice and send its version",
            )  # fmt: skip
        with self._sessions.begin() as session:
            row = ConsentAcceptance(
                tenant=tenant, conversation_id=conversation_id, notice_version=version
            )
            session.add(row)
            session.flush()
            return Acceptance(conversation_id, version, row.accepted_at)

    def _accepted(self, tenant: str, conversation_id: str, version: str) -> bool:
        with self._sessions() as session:
            found = session.scalars(
                select(ConsentAcceptance.id).where(
                    ConsentAcceptance.tenant == tenant,
                    ConsentAcceptance.conversation_id == conversation_id,
                    ConsentAcceptance.notice_version == version,
                )
            ).first()
        return found is not None
