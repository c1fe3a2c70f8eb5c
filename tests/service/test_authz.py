"""Authorisation matrix: every route x every role, plus a key of another tenant."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from control.tenants import ROLES
from tests.conftest import DATA, LiveServer
from tests.service.helpers import auth, upload, wait_job

# route -> roles allowed; None means public
POLICY: dict[tuple[str, str], tuple[str, ...] | None] = {
    ("GET", "/v1/health"): None,
    ("POST", "/v1/knowledge/sources"): ("admin",),
    ("GET", "/v1/knowledge/sources"): ("admin",),
    ("PATCH", "/v1/knowledge/sources/{document_id}"): ("admin",),
    ("DELETE", "/v1/knowledge/sources/{document_id}"): ("admin",),
    ("GET", "/v1/jobs/{job_id}"): ("admin",),
    ("POST", "/v1/conversations"): ("end_user",),
    ("POST", "/v1/conversations/{conversation_id}/messages"): ("end_user",),
    ("GET", "/v1/conversations/{conversation_id}"): ("end_user", "agent"),
    ("POST", "/v1/messages/{message_id}/rating"): ("end_user",),
    ("GET", "/v1/handoffs"): ("agent",),
    ("POST", "/v1/conversations/{conversation_id}/replies"): ("agent",),
    ("POST", "/v1/conversations/{conversation_id}/status"): ("agent",),
    ("GET", "/v1/drafts"): ("agent",),
    ("POST", "/v1/drafts/{message_id}/review"): ("agent",),
    ("GET", "/v1/agent/config"): ("admin",),
    ("PATCH", "/v1/agent/config"): ("admin",),
    ("GET", "/v1/features"): ("admin",),
    ("PUT", "/v1/features/{name}"): ("admin",),
    ("GET", "/v1/procedures"): ("admin",),
    ("PUT", "/v1/procedures"): ("admin",),
    ("GET", "/v1/procedures/{procedure_id}"): ("admin",),
    ("DELETE", "/v1/procedures/{procedure_id}"): ("admin",),
    ("GET", "/v1/actions/connections"): ("admin",),
    ("GET", "/v1/actions/connections/{name}"): ("admin",),
    ("PUT", "/v1/actions/connections/{name}"): ("admin",),
    ("DELETE", "/v1/actions/connections/{name}"): ("admin",),
    ("GET", "/v1/traces/{trace_id}"): ("qa_lead", "admin"),
    ("GET", "/v1/qa/queue"): ("qa_lead",),
    ("POST", "/v1/qa/reviews"): ("qa_lead",),
    ("GET", "/v1/qa/reviews"): ("qa_lead",),
    ("GET", "/v1/qa/golden"): ("qa_lead", "admin"),
    ("POST", "/v1/qa/golden"): ("qa_lead", "admin"),
    ("GET", "/v1/qa/report"): ("qa_lead", "admin"),
    ("POST", "/v1/privacy/redact"): ("admin",),
    ("GET", "/v1/conversations/{conversation_id}/redactions"): ("agent", "qa_lead", "admin"),
    ("POST", "/v1/conversations/{conversation_id}/redactions"): ("agent", "qa_lead", "admin"),
    ("GET", "/v1/privacy/settings"): ("admin",),
    ("PUT", "/v1/privacy/settings"): ("admin",),
    ("POST", "/v1/privacy/erasures"): ("admin",),
    ("GET", "/v1/privacy/retention"): ("admin",),
    ("PUT", "/v1/privacy/retention"): ("admin",),
    ("POST", "/v1/privacy/retention/runs"): ("admin",),
    ("GET", "/v1/audit"): ("admin",),
    ("GET", "/v1/audit/verify"): ("admin",),
    ("GET", "/v1/customer-control"): ("admin",),
    ("PUT", "/v1/customer-control"): ("admin",),
    ("POST", "/v1/conversations/{conversation_id}/consent"): ("end_user",),
    ("POST", "/v1/conversations/{conversation_id}/training-opt-out"): ("end_user",),
    ("PUT", "/v1/training/opt-outs/{end_user_id}"): ("admin",),
    ("DELETE", "/v1/training/opt-outs/{end_user_id}"): ("admin",),
    ("GET", "/v1/ai/features"): ("admin",),
    ("GET", "/v1/ai/usage"): ("admin",),
}
# A harmless id for every other path parameter: allowed roles get 404 (or 422 for a body
# that is deliberately empty), never a change.
_MISSING = (
    "{conversation_id}",
    "{message_id}",
    "{trace_id}",
    "{name}",
    "{procedure_id}",
    "{end_user_id}",
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from service.settings import Settings
    from tests.conftest import free_port

    settings = Settings(data_dir=tmp_path_factory.mktemp("authz"), port=free_port())
    with LiveServer(settings) as live:
        tenants = live.runtime.tenants
        tenants.create("acme", "eu")
        tenants.create("globex", "us")
        live.keys = {role: tenants.create_key("acme", role) for role in ROLES}
        live.other_admin = tenants.create_key("globex", "admin")
        response = upload(live.url, live.keys["admin"], DATA / "valid" / "warranty.html")
        live.job_id = response.json()["id"]
        wait_job(live.url, live.keys["admin"], live.job_id)
        yield live


def _call(server: Any, method: str, path: str, key: str | None) -> httpx.Response:
    headers = auth(key) if key else {}
    concrete = path.replace("{document_id}", "warranty.html").replace("{job_id}", server.job_id)
    for parameter in _MISSING:
        concrete = concrete.replace(parameter, "does-not-exist")
    if path == "/v1/conversations":
        return httpx.post(server.url + concrete, headers=headers, json={}, timeout=60)
    if method in ("POST", "PUT", "PATCH") and path != "/v1/knowledge/sources":
        body = {"not_a_field": True} if method == "PATCH" else {}
        return httpx.request(method, server.url + concrete, headers=headers, json=body, timeout=60)
    if method == "POST":
        files = [("files", ("note.txt", b"Opening hours are nine to five."))]
        return httpx.post(server.url + concrete, headers=headers, files=files, timeout=60)
    if method == "DELETE":
        # A harmless target for allowed roles so the fixture's document stays.
        concrete = concrete.replace("warranty.html", "does-not-exist.md")
    return httpx.request(method, server.url + concrete, headers=headers, timeout=60)


def test_policy_covers_every_route(server: Any) -> None:
    paths = httpx.get(f"{server.url}/openapi.json").json()["paths"]
    routes = {(method.upper(), path) for path, item in paths.items() for method in item}
    assert routes == set(POLICY)


@pytest.mark.parametrize(("method", "path"), list(POLICY))
@pytest.mark.parametrize("who", [*ROLES, "no key", "bad key"])
def test_matrix(server: Any, method: str, path: str, who: str) -> None:
    allowed = POLICY[(method, path)]
    key = {"no key": None, "bad key": "cl_000000000000_forged"}.get(who, server.keys.get(who))
    response = _call(server, method, path, key)
    if allowed is None:
        assert response.status_code == 200
    elif who in ("no key", "bad key"):
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "unauthorized"
    elif who in allowed:
        # 428: a versioned change (configuration, procedures) sent without its version.
        assert response.status_code in (200, 201, 202, 204, 400, 404, 422, 428), response.text
        if method == "DELETE":
            # The harmless target does not exist; withdrawing an opt-out that was never made
            # is an idempotent no-op (204).
            expected = 204 if path.startswith("/v1/training/opt-outs/") else 404
            assert response.status_code == expected
    else:
        assert response.status_code == 403
        assert f"role '{who}'" in response.json()["error"]["message"]


def test_key_of_another_tenant_never_reaches_this_tenant(server: Any) -> None:
    other = server.other_admin
    job = httpx.get(f"{server.url}/v1/jobs/{server.job_id}", headers=auth(other))
    assert job.status_code == 404
    listed = httpx.get(f"{server.url}/v1/knowledge/sources", headers=auth(other)).json()
    assert listed["sources"] == []
    deleted = httpx.delete(f"{server.url}/v1/knowledge/sources/warranty.html", headers=auth(other))
    assert deleted.status_code == 404
    mine = httpx.get(f"{server.url}/v1/knowledge/sources", headers=auth(server.keys["admin"]))
    assert "warranty.html" in [s["document_id"] for s in mine.json()["sources"]]


# End users: the role lets an end_user key in, but only to conversations that are theirs.
# Proofs: the conversation's token, or (keys allowed to assert identities) the same end user.
_OWNED = (
    ("GET", "/v1/conversations/{conversation_id}"),
    ("POST", "/v1/conversations/{conversation_id}/messages"),
    ("POST", "/v1/messages/{message_id}/rating"),
)
_PROOFS: dict[str, tuple[str, bool]] = {  # proof -> (key, reaches the conversation)
    "no proof": ("end_user", False),
    "own token": ("end_user", True),
    "another conversation's token": ("end_user", False),
    "own identity, key may not assert": ("end_user", False),
    "own identity, backend key": ("backend", True),
    "another identity, backend key": ("backend", False),
    "own identity, another tenant's backend": ("other_backend", False),
    "own token, another tenant's key": ("other_end_user", False),
}


@pytest.fixture(scope="module")
def owned(server: Any) -> dict[str, str]:
    tenants = server.runtime.tenants
    keys = {
        "end_user": server.keys["end_user"],
        "backend": tenants.create_key("acme", "end_user", asserts_identity=True),
        "other_backend": tenants.create_key("globex", "end_user", asserts_identity=True),
        "other_end_user": tenants.create_key("globex", "end_user"),
    }
    started = httpx.post(
        f"{server.url}/v1/conversations", headers=auth(keys["backend"]),
        json={"end_user_id": "customer-1"}, timeout=60,
    ).json()  # fmt: skip
    other = httpx.post(
        f"{server.url}/v1/conversations", headers=auth(keys["end_user"]), json={}, timeout=60
    ).json()
    token = started["conversation_token"]
    reply = httpx.post(
        f"{server.url}/v1/conversations/{started['conversation_id']}/messages",
        headers={**auth(keys["end_user"]), "X-Conversation-Token": token},
        json={"text": "What does the warranty cover?"}, timeout=120,
    )  # fmt: skip
    assert reply.status_code == 200, reply.text
    return {
        **keys, "conversation_id": started["conversation_id"], "token": token,
        "message_id": reply.json()["message_id"], "other_token": other["conversation_token"],
    }  # fmt: skip


def _proof_headers(owned: dict[str, str], proof: str) -> dict[str, str]:
    key, _ = _PROOFS[proof]
    headers = auth(owned[key])
    if "token" in proof:
        headers["X-Conversation-Token"] = owned["other_token" if "another" in proof else "token"]
    if "identity" in proof:
        headers["X-End-User-Id"] = "customer-2" if "another identity" in proof else "customer-1"
    return headers


@pytest.mark.parametrize(("method", "path"), _OWNED)
@pytest.mark.parametrize("proof", list(_PROOFS))
def test_end_users_reach_only_their_own_conversations(
    server: Any, owned: dict[str, str], method: str, path: str, proof: str
) -> None:
    concrete = path.replace("{conversation_id}", owned["conversation_id"])
    concrete = concrete.replace("{message_id}", owned["message_id"])
    body = {"rating": "up"} if "rating" in path else {"text": "Thanks!"}
    response = httpx.request(
        method, server.url + concrete, headers=_proof_headers(owned, proof),
        json=body if method == "POST" else None, timeout=120,
    )  # fmt: skip
    if _PROOFS[proof][1]:
        assert response.status_code == 200, response.text
    else:
        assert response.status_code == 404, response.text
        assert "does not exist" in response.json()["error"]["message"]
