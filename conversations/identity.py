"""Who a conversation belongs to, and who may reach it as an end user.

A conversation belongs to whoever started it. They get a conversation token (random, shown
once, stored as a SHA-256 hash); the company's backend, with a key allowed to assert
identities, may also name the end user (`end_user_id`, from the company's own login). An
end user reaches a conversation with its token or, through such a key, with the same
`end_user_id`. Everyone else is told the conversation does not exist, exactly as for an id
that was never used, so its existence is not revealed.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from control.errors import BadRequest, NotFound, quoted
from control.models import Conversation, Message
from control.regional import tenant_regions

END_USER_ID_MAX = 200


@dataclass(frozen=True)
class EndUserProof:
    """What an end user's request shows: the conversation token it sent, and the end user
    its key asserts (None unless the key may assert identities)."""

    token: str | None = None
    end_user_id: str | None = None


def new_token() -> tuple[str, str]:
    """A fresh conversation token and the hash that is stored."""
    token = secrets.token_urlsafe(32)
    return token, hash_token(token)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def check_end_user_id(value: str) -> str:
    """The end-user id without surrounding spaces; BadRequest if empty, too long or with
    control characters."""
    value = value.strip()
    if (
        not value
        or len(value) > END_USER_ID_MAX
        or any(ord(c) < 32 or ord(c) == 127 for c in value)
    ):
        raise BadRequest(
            f"end_user_id must be 1-{END_USER_ID_MAX} printable characters (the id of the "
            "end user in the company's own login)"
        )
    return value


def belongs(conversation: Conversation, proof: EndUserProof) -> bool:
    """Whether `proof` shows the conversation is this end user's (constant-time compares)."""
    if (
        proof.token
        and conversation.token_hash
        and hmac.compare_digest(conversation.token_hash, hash_token(proof.token))
    ):
        return True
    if proof.end_user_id and conversation.end_user_id:
        mine = proof.end_user_id.encode("utf-8")
        return hmac.compare_digest(conversation.end_user_id.encode("utf-8"), mine)
    return False


@tenant_regions
class Ownership:
    """Looks up a tenant's conversation or reply as an end user would: NotFound unless the
    proof matches."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def conversation(self, tenant: str, conversation_id: str, proof: EndUserProof) -> None:
        with self._sessions() as session:
            row = session.get(Conversation, conversation_id)
        if row is None or row.tenant != tenant or not belongs(row, proof):
            raise NotFound(f"conversation {quoted(conversation_id)} does not exist")

    def message(self, tenant: str, message_id: str, proof: EndUserProof) -> None:
        with self._sessions() as session:
            message = session.get(Message, message_id)
            row = session.get(Conversation, message.conversation_id) if message else None
        if row is None or row.tenant != tenant or not belongs(row, proof):
            raise NotFound(f"reply {quoted(message_id)} does not exist")
