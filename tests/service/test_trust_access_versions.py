"""Concurrent admin edits over HTTP: the agent configuration and each procedure carry a
version (GET gives it as an ETag); a change needs `If-Match` (or the version in the body);
a stale one gets 409 with the current version and changes nothing; the agent that answers
is always the one of the current version."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from tests.conftest import LiveServer, free_port
from tests.service.helpers import auth, seed_returns_policy

QUESTION = "How long do I have to return a defective item?"
PROCEDURE = """\
id: opening-hours
title: Tell the opening hours
intents: [opening_hours]
examples:
  - when are you open
  - what are your opening hours
steps:
  - id: answer
    reply: "We are open from nine to five, Monday to Friday."
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from service.settings import Settings

    settings = Settings(data_dir=tmp_path_factory.mktemp("versions"), port=free_port())
    with LiveServer(settings) as live:
        tenants = live.runtime.tenants
        tenants.create("acme", "eu")
        seed_returns_policy(live.runtime, "acme")
        live.keys = {r: tenants.create_key("acme", r) for r in ("admin", "end_user", "qa_lead")}
        yield live


def call(server: Any, method: str, path: str, role: str = "admin", headers: Any = None,
         **kwargs: Any) -> httpx.Response:  # fmt: skip
    return httpx.request(
        method,
        server.url + path,
        timeout=120,
        headers={**auth(server.keys[role]), **(headers or {})},
        **kwargs,
    )


def etag(response: httpx.Response) -> str:
    tag = response.headers["ETag"]
    assert tag.startswith('"') and tag.endswith('"'), tag
    return tag


def config(server: Any) -> httpx.Response:
    response = call(server, "GET", "/v1/agent/config")
    assert response.status_code == 200
    assert etag(response) == f'"{response.json()["version"]}"'
    return response


def _stale(response: httpx.Response, current: int) -> None:
    assert response.status_code == 409, response.text
    error = response.json()["error"]
    assert error["code"] == "version_conflict" and error["current_version"] == current
    assert f"version {current}" in error["message"]
    assert response.headers["ETag"] == f'"{current}"'


def test_a_stale_configuration_update_gets_409(server: Any) -> None:
    first = config(server)
    tag, version = etag(first), first.json()["version"]
    changed = call(server, "PATCH", "/v1/agent/config", headers={"If-Match": tag},
                   json={"privacy_notice": "Notice A"})  # fmt: skip
    assert changed.status_code == 200, changed.text
    assert changed.json()["version"] == version + 1 and etag(changed) == f'"{version + 1}"'
    stale = call(server, "PATCH", "/v1/agent/config", headers={"If-Match": tag},
                 json={"privacy_notice": "Notice B"})  # fmt: skip
    _stale(stale, version + 1)
    now = config(server).json()
    assert now["privacy_notice"] == "Notice A" and now["version"] == version + 1


def test_a_configuration_update_without_a_version_gets_428(server: Any) -> None:
    before = config(server).json()
    missing = call(server, "PATCH", "/v1/agent/config", json={"privacy_notice": "Notice C"})
    assert missing.status_code == 428, missing.text
    assert missing.json()["error"]["code"] == "precondition_required"
    assert "If-Match" in missing.json()["error"]["message"]
    in_body = call(
        server,
        "PATCH",
        "/v1/agent/config",
        json={"version": before["version"], "privacy_notice": "Notice C"},
    )
    assert in_body.status_code == 200, in_body.text
    _stale(call(server, "PATCH", "/v1/agent/config",
                json={"version": before["version"], "privacy_notice": "Notice D"}),
           before["version"] + 1)  # fmt: skip
    assert config(server).json()["privacy_notice"] == "Notice C"


def test_ten_concurrent_edits_of_one_version_make_one_change(server: Any) -> None:
    tag = etag(config(server))
    version = int(tag.strip('"'))

    def edit(n: int) -> httpx.Response:
        return call(server, "PATCH", "/v1/agent/config", headers={"If-Match": tag},
                    json={"privacy_notice": f"Notice from admin {n}"})  # fmt: skip

    with ThreadPoolExecutor(max_workers=10) as pool:
        responses = list(pool.map(edit, range(10)))
    won = [r for r in responses if r.status_code == 200]
    assert len(won) == 1, [r.status_code for r in responses]
    for lost in responses:
        if lost.status_code != 200:
            _stale(lost, version + 1)
    now = config(server).json()
    assert now["version"] == version + 1
    assert now["privacy_notice"] == won[0].json()["privacy_notice"]


def test_concurrent_feature_switches_all_count(server: Any) -> None:
    """A switch sets one flag: without If-Match it is applied atomically, never lost."""
    version = config(server).json()["version"]
    names = ("sentiment", "quality_scoring", "intent_prediction")
    features = {f["name"] for f in call(server, "GET", "/v1/features").json()}
    assert set(names) <= features, features

    def switch(name: str) -> int:
        return call(server, "PUT", f"/v1/features/{name}", json={"enabled": False}).status_code

    with ThreadPoolExecutor(max_workers=3) as pool:
        assert list(pool.map(switch, names)) == [200] * 3
    now = config(server).json()
    assert now["version"] == version + 3
    assert all(now["features"][name] is False for name in names)
    for name in names:
        assert switch_back(server, name).status_code == 200


def switch_back(server: Any, name: str) -> httpx.Response:
    tag = etag(config(server))
    return call(server, "PUT", f"/v1/features/{name}", headers={"If-Match": tag},
                json={"enabled": True})  # fmt: skip


def test_a_stale_feature_switch_with_if_match_gets_409(server: Any) -> None:
    tag = etag(config(server))
    assert call(server, "PATCH", "/v1/agent/config", headers={"If-Match": tag},
                json={"privacy_notice": "Notice E"}).status_code == 200  # fmt: skip
    stale = call(server, "PUT", "/v1/features/sentiment", headers={"If-Match": tag},
                 json={"enabled": False})  # fmt: skip
    _stale(stale, int(tag.strip('"')) + 1)


def test_procedures_carry_their_own_version(server: Any) -> None:
    path = "/v1/procedures"
    assert call(server, "PUT", path, json={"source": PROCEDURE}).status_code == 428
    created = call(server, "PUT", path, headers={"If-None-Match": "*"},
                   json={"source": PROCEDURE})  # fmt: skip
    assert created.status_code == 200, created.text
    pid = created.json()["id"]
    assert created.json()["version"] == 1 and etag(created) == '"1"'
    _stale(call(server, "PUT", path, headers={"If-None-Match": "*"},
                json={"source": PROCEDURE}), 1)  # fmt: skip
    edited = PROCEDURE.replace("title:", "title: (edited)", 1)
    assert edited != PROCEDURE
    second = call(server, "PUT", path, headers={"If-Match": '"1"'}, json={"source": edited})
    assert second.status_code == 200 and second.json()["version"] == 2, second.text
    _stale(call(server, "PUT", path, headers={"If-Match": '"1"'},
                json={"source": PROCEDURE}), 2)  # fmt: skip
    _stale(call(server, "PUT", path, json={"source": PROCEDURE, "version": 1}), 2)
    one = call(server, "GET", f"{path}/{pid}")
    assert one.status_code == 200 and etag(one) == '"2"' and one.json()["source"] == edited
    listed = call(server, "GET", path).json()
    assert [(p["id"], p["version"]) for p in listed] == [(pid, 2)]
    assert call(server, "DELETE", f"{path}/{pid}").status_code == 428
    _stale(call(server, "DELETE", f"{path}/{pid}", headers={"If-Match": '"1"'}), 2)
    assert call(server, "GET", f"{path}/{pid}").status_code == 200  # still there
    gone = call(server, "DELETE", f"{path}/{pid}", headers={"If-Match": '"2"'})
    assert gone.status_code == 204
    assert call(server, "GET", f"{path}/{pid}").status_code == 404


def test_concurrent_procedure_edits_of_one_version_make_one_change(server: Any) -> None:
    path = "/v1/procedures"
    created = call(server, "PUT", path, headers={"If-None-Match": "*"},
                   json={"source": PROCEDURE})  # fmt: skip
    assert created.status_code == 200, created.text
    pid, tag = created.json()["id"], etag(created)

    def edit(n: int) -> httpx.Response:
        source = PROCEDURE.replace("title:", f"title: (edit {n})", 1)
        return call(server, "PUT", path, headers={"If-Match": tag}, json={"source": source})

    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(pool.map(edit, range(8)))
    assert sorted(r.status_code for r in responses) == [200] + [409] * 7
    winner = next(r for r in responses if r.status_code == 200).json()
    stored = call(server, "GET", f"{path}/{pid}").json()
    assert stored["source"] == winner["source"] and stored["version"] == 2
    deleted = call(server, "DELETE", f"{path}/{pid}", headers={"If-Match": '"2"'})
    assert deleted.status_code == 204


def _ask(server: Any) -> dict[str, Any]:
    started = call(server, "POST", "/v1/conversations", "end_user", json={}).json()
    headers = {"X-Conversation-Token": started["conversation_token"]}
    reply = call(server, "POST", f"/v1/conversations/{started['conversation_id']}/messages",
                 "end_user", headers=headers, json={"text": QUESTION})  # fmt: skip
    assert reply.status_code == 200, reply.text
    body: dict[str, Any] = reply.json()
    trace = call(server, "GET", f"/v1/traces/{body['trace_id']}", "qa_lead").json()
    body["config_version"] = trace["config_version"]
    return body


def test_the_agent_is_never_older_than_the_configuration(server: Any) -> None:
    """Edits and conversations interleaved from several threads; afterwards, and after each
    edit, the agent answers with the configuration's current version."""

    def toggle(n: int) -> None:
        for _ in range(20):
            current = config(server)
            autonomy = "copilot" if n % 2 else "autonomous"
            response = call(
                server,
                "PATCH",
                "/v1/agent/config",
                headers={"If-Match": etag(current)},
                json={"autonomy": autonomy},
            )
            if response.status_code == 200:
                return
            assert response.status_code == 409, response.text
        raise AssertionError("no edit got through in 20 tries")

    with ThreadPoolExecutor(max_workers=4) as pool:
        edits = [pool.submit(toggle, n) for n in range(6)]
        asks = [pool.submit(_ask, server) for _ in range(6)]
        for future in edits + asks:
            future.result()
    final = config(server).json()
    reply = _ask(server)
    assert reply["config_version"] == final["version"]
    assert (reply["decision"] == "draft") == (final["autonomy"] == "copilot")
    tag = etag(config(server))
    flipped = "autonomous" if final["autonomy"] == "copilot" else "copilot"
    assert call(server, "PATCH", "/v1/agent/config", headers={"If-Match": tag},
                json={"autonomy": flipped}).status_code == 200  # fmt: skip
    after = _ask(server)
    assert after["config_version"] == final["version"] + 1
    assert (after["decision"] == "draft") == (flipped == "copilot")
    tag = etag(config(server))
    call(server, "PATCH", "/v1/agent/config", headers={"If-Match": tag},
         json={"autonomy": "autonomous"})  # fmt: skip
