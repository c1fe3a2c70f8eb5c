"""Dependencies for the end-user side of conversations: a conversation belongs to the end
user who started it (conversations/identity.py).

With an end_user key (or an end user's console session) a request reaches a conversation,
or rates one of its replies, only with that conversation's token in `X-Conversation-Token`,
or, with a key allowed to assert identities (the company's backend), the same end user in
`X-End-User-Id`; otherwise 404, the same answer as for an id that does not exist. Human
agents keep their role-based access within their tenant. The checks are FastAPI
dependencies, so every client of the /v1 API, the web console included, passes them.
"""

# No `from __future__ import annotations` here: FastAPI must see the closures' Depends().
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request

from control.tenants import Principal
from conversations.identity import EndUserProof, Ownership
from service.deps import RuntimeDep, require

TOKEN_HEADER = "X-Conversation-Token"
END_USER_HEADER = "X-End-User-Id"


def end_user_proof(request: Request, principal: Principal) -> EndUserProof:
    """The token the request sends, and the end user it names if its key may name one."""
    token = request.headers.get(TOKEN_HEADER, "").strip() or None
    named = request.headers.get(END_USER_HEADER, "") if principal.asserts_identity else ""
    return EndUserProof(token=token, end_user_id=_utf8(named).strip() or None)


def _utf8(value: str) -> str:
    """A header value as the text its bytes spell in UTF-8, the encoding of the JSON body
    and URL that named the end user first; Latin-1 (the HTTP default, which Starlette
    decodes with) when the bytes are not UTF-8. ASCII ids read the same either way."""
    raw = value.encode("latin-1")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return value


def conversation_access(*roles: str) -> Callable[..., Principal]:
    """Admits `roles`; an end user only to a conversation that is theirs."""
    role_check = require(*roles)

    def dependency(
        conversation_id: str,
        request: Request,
        runtime: RuntimeDep,
        principal: Annotated[Principal, Depends(role_check)],
    ) -> Principal:
        if principal.role == "end_user":
            ownership = Ownership(runtime.sessions)
            ownership.conversation(
                principal.tenant, conversation_id, end_user_proof(request, principal)
            )
        return principal

    return dependency


def reply_access(*roles: str) -> Callable[..., Principal]:
    """Admits `roles`; an end user only to a reply in a conversation that is theirs."""
    role_check = require(*roles)

    def dependency(
        message_id: str,
        request: Request,
        runtime: RuntimeDep,
        principal: Annotated[Principal, Depends(role_check)],
    ) -> Principal:
        if principal.role == "end_user":
            ownership = Ownership(runtime.sessions)
            ownership.message(principal.tenant, message_id, end_user_proof(request, principal))
        return principal

    return dependency
