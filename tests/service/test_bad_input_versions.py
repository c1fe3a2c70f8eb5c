"""Odd input over HTTP gets a clear 400/422 and changes nothing, never a 500: If-Match tags
and body versions that are not sane numbers, an audit cursor too large for the database,
a retention run at an impossible moment, and an empty retention policy."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.service.helpers import acme_server, auth
from tests.service.test_trust_access_versions import PROCEDURE

POLICY = "rules: [{name: default, applies_to: conversations, older_than_days: 30}]\n"
HUGE_TAG = '"' + "9" * 5000 + '"'
ODD_TAGS = {
    '"²"': 'If-Match: "²" is not an ETag of this API (they look like "3")',
    '"-1"': 'If-Match: "-1" is not an ETag of this API (they look like "3")',
    HUGE_TAG: f'If-Match: {HUGE_TAG[:40]}... is not an ETag of this API (they look like "3")',
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Any:
    with acme_server(tmp_path_factory, "bad-input", ("admin",)) as live:
        yield live


def call(server: Any, method: str, path: str, headers: Any = None,
         **kwargs: Any) -> httpx.Response:  # fmt: skip
    return httpx.request(
        method,
        server.url + path,
        timeout=120,
        headers={**auth(server.keys["admin"]), **(headers or {})},
        **kwargs,
    )


def refused(response: httpx.Response, status: int, message: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["error"]["message"] == message


def config(server: Any) -> dict[str, Any]:
    response = call(server, "GET", "/v1/agent/config")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_odd_versions_get_400_and_change_nothing(server: Any) -> None:
    created = call(server, "PUT", "/v1/procedures", headers={"If-None-Match": "*"},
                   json={"source": PROCEDURE})  # fmt: skip
    assert created.status_code == 200, created.text
    pid = created.json()["id"]
    before = config(server)
    for tag, message in ODD_TAGS.items():
        headers = {"If-Match": tag.encode("latin-1")}  # as a browser sends it
        refused(call(server, "PATCH", "/v1/agent/config", headers=headers,
                     json={"privacy_notice": "Changed"}), 400, message)  # fmt: skip
        refused(call(server, "PUT", "/v1/features/sentiment", headers=headers,
                     json={"enabled": False}), 400, message)  # fmt: skip
        edited = PROCEDURE.replace("title:", "title: (edited)", 1)
        refused(call(server, "PUT", "/v1/procedures", headers=headers,
                     json={"source": edited}), 400, message)  # fmt: skip
        refused(call(server, "DELETE", f"/v1/procedures/{pid}", headers=headers), 400, message)
    for version in (10**30, -1):
        refused(call(server, "PATCH", "/v1/agent/config",
                     json={"version": version, "privacy_notice": "Changed"}), 400,
                f"version {version} is not a version of this API; send the version that GET "
                "returned (a whole number from 0 to 999999999999999999)")  # fmt: skip
    huge = '{"version": %s, "privacy_notice": "Changed"}' % ("9" * 5000)
    patched = call(server, "PATCH", "/v1/agent/config", content=huge,
                   headers={"Content-Type": "application/json"})  # fmt: skip
    assert patched.status_code == 400, patched.text  # JSON parsing refuses it first
    after = config(server)
    assert after == before
    stored = call(server, "GET", f"/v1/procedures/{pid}")
    assert stored.status_code == 200 and stored.json()["version"] == 1
    assert stored.json()["source"] == PROCEDURE


def test_an_audit_cursor_past_the_largest_id_gets_422(server: Any) -> None:
    assert call(server, "PUT", "/v1/features/sentiment", json={"enabled": True}).status_code == 200
    before = call(server, "GET", "/v1/audit")
    assert before.status_code == 200 and before.json()["entries"], before.text
    too_far = call(server, "GET", "/v1/audit", params={"after": "99999999999999999999999"})
    refused(too_far, 422, "query.after: Input should be less than or equal to 9223372036854775807")
    assert call(server, "GET", "/v1/audit", params={"after": 2**63 - 1}).json()["entries"] == []
    assert call(server, "GET", "/v1/audit").json()["entries"] == before.json()["entries"]


def test_a_retention_run_at_an_impossible_moment_gets_400(server: Any) -> None:
    yaml_headers = {"Content-Type": "application/yaml"}
    put = call(server, "PUT", "/v1/privacy/retention", headers=yaml_headers, content=POLICY)
    assert put.status_code == 200, put.text
    before = call(server, "GET", "/v1/privacy/retention").json()
    for now, shown in (
        ("0001-01-01T00:00:00Z", "0001-01-01T00:00:00+00:00"),
        ("1999-12-31T23:59:59", "1999-12-31T23:59:59+00:00"),
        ("9999-12-31T23:59:59Z", "9999-12-31T23:59:59+00:00"),
    ):
        for dry_run in (True, False):
            refused(call(server, "POST", "/v1/privacy/retention/runs",
                         json={"dry_run": dry_run, "now": now}), 400,
                    f"now {shown} is out of range: a retention run accepts a moment from "
                    "2000-01-01 to one year after the clock; leave it out to use the "
                    "clock")  # fmt: skip
    assert call(server, "GET", "/v1/privacy/retention").json() == before
    fine = call(server, "POST", "/v1/privacy/retention/runs",
                json={"dry_run": True, "now": "2020-01-01T00:00:00Z"})  # fmt: skip
    assert fine.status_code == 200, fine.text


def test_an_empty_retention_policy_gets_400_and_keeps_the_old_one(server: Any) -> None:
    yaml_headers = {"Content-Type": "application/yaml"}
    put = call(server, "PUT", "/v1/privacy/retention", headers=yaml_headers, content=POLICY)
    assert put.status_code == 200, put.text
    before = call(server, "GET", "/v1/privacy/retention").json()
    assert before["policy"]["rules"], before
    for body in (b"", b"  \n\t\n", b"# no rules yet\n\n", b"{}"):
        refused(call(server, "PUT", "/v1/privacy/retention", headers=yaml_headers,
                     content=body), 400,
                "the policy is empty; send `rules: []` to remove every rule")  # fmt: skip
    assert call(server, "GET", "/v1/privacy/retention").json() == before
    cleared = call(server, "PUT", "/v1/privacy/retention", headers=yaml_headers,
                   content=b"rules: []\n")  # fmt: skip
    assert cleared.status_code == 200, cleared.text
    assert cleared.json()["version"] == before["version"] + 1
    assert cleared.json()["policy"]["rules"] == []
