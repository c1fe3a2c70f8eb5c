"""Abuse limits over HTTP: 429 with Retry-After per IP and per key on the conversation and
upload paths, failed authentication counted per IP, one turn at a time per conversation.

Requests come from 127.0.0.1; uvicorn trusts X-Forwarded-For from there (its default
`forwarded_allow_ips`), which is how these tests stand in for other clients' addresses.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from tests.agent.test_chat import Action, FakeOpenAIServer
from tests.conftest import DATA, LiveServer, free_port
from tests.service.helpers import auth, seed_returns_policy, upload, wait_job

QUESTION = "How long do I have to return a defective item?"


@contextmanager
def serve(tmp_path_factory: pytest.TempPathFactory, **overrides: Any) -> Iterator[Any]:
    from service.settings import Settings

    settings = Settings(data_dir=tmp_path_factory.mktemp("limits"), port=free_port(), **overrides)
    with LiveServer(settings) as live:
        tenants = live.runtime.tenants
        tenants.create("acme", "eu")
        seed_returns_policy(live.runtime, "acme")
        live.keys = {r: tenants.create_key("acme", r) for r in ("end_user", "admin")}
        live.keys["other_end_user"] = tenants.create_key("acme", "end_user")
        yield live


def _from(ip: str, key: str | None = None) -> dict[str, str]:
    headers = {"X-Forwarded-For": ip}
    if key:
        headers.update(auth(key))
    return headers


def _limited(response: httpx.Response, code: str = "rate_limited") -> int:
    """Assert a 429 in the project's error shape; return its Retry-After in seconds."""
    assert response.status_code == 429, response.text
    error = response.json()["error"]
    assert error["code"] == code and error["message"]
    retry_after = int(response.headers["Retry-After"])
    assert 1 <= retry_after <= 60
    return retry_after


def test_300_wrong_keys_in_parallel_get_429s_with_default_settings(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    with serve(tmp_path_factory) as live:
        forged = "cl_000000000000_forged-key-guess"

        def guess(_: int) -> httpx.Response:
            return httpx.get(f"{live.url}/v1/knowledge/sources", headers=_from("203.0.113.9",
                             forged), timeout=60)  # fmt: skip

        with ThreadPoolExecutor(max_workers=24) as pool:
            responses = list(pool.map(guess, range(300)))
        statuses = [r.status_code for r in responses]
        assert set(statuses) == {401, 429}, set(statuses)
        assert statuses.count(429) >= 150
        _limited(next(r for r in responses if r.status_code == 429))
        # While the address is blocked, even a real key is not checked from there...
        real = httpx.get(f"{live.url}/v1/knowledge/sources",
                         headers=_from("203.0.113.9", live.keys["admin"]))  # fmt: skip
        _limited(real)
        # ...but another address is unaffected.
        other = httpx.get(f"{live.url}/v1/knowledge/sources",
                          headers=_from("198.51.100.7", live.keys["admin"]))  # fmt: skip
        assert other.status_code == 200


def test_a_burst_on_the_conversation_paths_gets_429_per_ip_and_per_key(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    with serve(
        tmp_path_factory,
        rate_limit_conversations_per_ip="5/minute",
        rate_limit_conversations_per_key="8/minute",
    ) as live:
        key = live.keys["end_user"]
        codes = [
            httpx.post(
                f"{live.url}/v1/conversations", headers=_from("192.0.2.1", key), json={}
            ).status_code
            for _ in range(6)
        ]
        assert codes == [201] * 5 + [429]
        _limited(httpx.post(f"{live.url}/v1/conversations", headers=_from("192.0.2.1", key)))
        # Another address with the same key gets the key's remaining 3, then 429.
        more = [
            httpx.post(f"{live.url}/v1/conversations", headers=_from("192.0.2.2", key),
                       json={}) for _ in range(4)
        ]  # fmt: skip
        assert [r.status_code for r in more] == [201, 201, 201, 429]
        _limited(more[-1])
        # Another key from a fresh address is unaffected.
        fresh = httpx.post(
            f"{live.url}/v1/conversations",
            headers=_from("192.0.2.3", live.keys["other_end_user"]),
            json={},
        )
        assert fresh.status_code == 201


def test_uploads_are_limited_per_key(tmp_path_factory: pytest.TempPathFactory) -> None:
    with serve(tmp_path_factory, rate_limit_uploads_per_key="2/minute") as live:
        note = DATA / "valid" / "contact.txt"
        codes = [upload(live.url, live.keys["admin"], note).status_code for _ in range(3)]
        assert codes == [202, 202, 429]
        _limited(upload(live.url, live.keys["admin"], note))


def test_a_second_concurrent_message_to_one_conversation_gets_429(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    with (
        FakeOpenAIServer() as model,
        serve(tmp_path_factory, chat_base_url=model.base_url, chat_model="slow-model") as live,
    ):
        admin, user = live.keys["admin"], live.keys["end_user"]
        switched = httpx.put(f"{live.url}/v1/features/generative_composition",
                             headers=auth(admin), json={"enabled": True})  # fmt: skip
        assert switched.status_code == 200, switched.text
        model.queue.extend(Action(reply="Within 30 days [1].", sleep_s=3) for _ in range(2))

        def begin() -> tuple[str, dict[str, str]]:
            started = httpx.post(f"{live.url}/v1/conversations", headers=auth(user), json={})
            body = started.json()
            return body["conversation_id"], {
                **auth(user),
                "X-Conversation-Token": body["conversation_token"],
            }

        (busy, busy_headers), (calm, calm_headers) = begin(), begin()
        results: dict[str, httpx.Response] = {}

        def send(name: str, cid: str, headers: dict[str, str]) -> None:
            results[name] = httpx.post(
                f"{live.url}/v1/conversations/{cid}/messages",
                headers=headers,
                json={"text": QUESTION},
                timeout=60,
            )

        first = threading.Thread(target=send, args=("first", busy, busy_headers))
        first.start()
        deadline = time.monotonic() + 30
        while not model.requests:  # then the first turn is waiting on the model
            assert time.monotonic() < deadline, "the first turn never reached the model"
            time.sleep(0.05)
        send("second", busy, busy_headers)
        other = threading.Thread(target=send, args=("other", calm, calm_headers))
        other.start()
        first.join(30)
        other.join(30)
        assert results["first"].status_code == 200, results["first"].text
        _limited(results["second"], code="turn_in_progress")
        assert results["other"].status_code == 200, results["other"].text
        history = httpx.get(f"{live.url}/v1/conversations/{busy}", headers=busy_headers).json()
        assert [m["role"] for m in history["messages"]] == ["user", "assistant"]


def test_console_sign_in_and_links_count_failed_authentications(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """Guessing keys through the console's sign-in form, its one-time links or `/ui/links`
    uses up the same per-address budget as the API (found by probing: 120 wrong sign-ins
    from an address the API had blocked all got 401)."""
    with serve(tmp_path_factory, rate_limit_failed_auth_per_ip="5/minute") as live:
        wrong = "cl_000000000000_forged-key-guess"

        def sign_in(ip: str, key: str) -> httpx.Response:
            return httpx.post(f"{live.url}/ui/login", data={"key": key}, headers=_from(ip))

        def ask_link(ip: str, key: str) -> httpx.Response:
            return httpx.post(f"{live.url}/ui/links", headers=_from(ip, key))

        def open_link(ip: str, token: str) -> httpx.Response:
            return httpx.get(f"{live.url}/ui/login", params={"token": token}, headers=_from(ip))

        ways = {"203.0.113.1": sign_in, "203.0.113.2": ask_link, "203.0.113.3": open_link}
        for ip, attempt in ways.items():
            assert [attempt(ip, wrong).status_code for _ in range(5)] == [401] * 5
            blocked = attempt(ip, live.keys["admin"])  # a real key is not even checked
            assert blocked.status_code == 429 and 1 <= int(blocked.headers["Retry-After"]) <= 60
            assert "too many failed authentications from this address" in blocked.text
            assert "set-cookie" not in blocked.headers  # no session
            _limited(httpx.get(f"{live.url}/v1/knowledge/sources",
                               headers=_from(ip, live.keys["admin"])))  # fmt: skip
        signed_in = httpx.post(f"{live.url}/ui/login", data={"key": live.keys["admin"]},
                               headers=_from("198.51.100.7"))  # fmt: skip
        assert signed_in.status_code == 303 and "set-cookie" in signed_in.headers


def test_a_request_body_over_the_limit_is_refused_before_it_is_read(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """Found by probing: a 30 MB JSON body was read whole before a 422. Over
    CLEARLINE_MAX_REQUEST_MB (0.1 here), with or without Content-Length: 413; knowledge
    uploads keep their own per-file limits."""
    with serve(tmp_path_factory, max_request_mb=0.1) as live:
        start = f"{live.url}/v1/conversations"
        headers = {**auth(live.keys["end_user"]), "Content-Type": "application/json"}
        big = b'{"message": "' + b"a" * 200_000 + b'"}'

        def chunked() -> Iterator[bytes]:
            for at in range(0, len(big), 8192):
                yield big[at : at + 8192]

        for content in (big, chunked()):
            refused = httpx.post(start, content=content, headers=headers, timeout=60)
            assert refused.status_code == 413, refused.text
            error = refused.json()["error"]
            assert error["code"] == "payload_too_large"
            assert error["message"].startswith("the request body is more than the 0.1 MB limit")
        assert httpx.post(start, json={}, headers=headers).status_code == 201
        files = [("files", ("big.txt", b"refund policy text. " * 10_000))]  # 0.2 MB
        uploaded = httpx.post(f"{live.url}/v1/knowledge/sources", files=files,
                              headers=auth(live.keys["admin"]), timeout=60)  # fmt: skip
        assert uploaded.status_code == 202, uploaded.text
        job = wait_job(live.url, live.keys["admin"], uploaded.json()["id"])
        assert job["status"] == "succeeded", job
