"""HEAD, as uptime monitors and link checkers send it, over HTTP against the live app: the
GET routes without side effects (health, the widget, the consoles' files and pages, the
reads that are neither audited nor rate-counted) answer HEAD with GET's status and headers
and no body, authentication included; the others still answer 405 naming their methods.
A one-time console link is never consumed by a HEAD, nor is a golden-set export audited."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi.routing import iter_route_contexts

from service.head import HEAD_ROUTES, NO_HEAD
from tests.service.helpers import acme_server, auth

VARYING = {"date"}  # the only header allowed to differ between two identical requests


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    with acme_server(tmp_path_factory, "head", ("admin", "end_user")) as server:
        yield server


def _headers(response: httpx.Response) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k not in VARYING}


def _same_as_get(live: Any, path: str, headers: dict[str, str] | None = None) -> httpx.Response:
    """HEAD `path`; assert it got GET's status and headers and no body; return the GET."""
    got = httpx.get(live.url + path, headers=headers)
    head = httpx.head(live.url + path, headers=headers)
    assert head.status_code == got.status_code, (path, head.status_code, head.headers)
    assert _headers(head) == _headers(got), path
    assert head.content == b""
    assert head.headers.get("content-length") == str(len(got.content)), path
    return got


def _console_cookie(live: Any, role: str) -> dict[str, str]:
    issued = httpx.post(live.url + "/ui/links", headers=auth(live.keys[role]), json={})
    signed_in = httpx.get(live.url + issued.json()["path"])
    assert signed_in.status_code == 200, signed_in.text
    return {"cookie": signed_in.headers["set-cookie"].split(";", 1)[0]}


@pytest.mark.parametrize("path", ["/v1/health", "/ui/widget.js", "/ui/static/css/app.css"])
def test_head_on_a_public_file_or_the_health_check_answers_as_get(live: Any, path: str) -> None:
    assert _same_as_get(live, path).status_code == 200


def test_head_on_a_missing_static_file_is_404(live: Any) -> None:
    assert httpx.head(live.url + "/ui/static/css/nothing.css").status_code == 404


@pytest.mark.parametrize(
    "path", ["/v1/agent/config", "/v1/features", "/v1/audit/verify", "/v1/knowledge/sources"]
)
def test_head_on_a_read_only_api_route_answers_as_get(live: Any, path: str) -> None:
    got = _same_as_get(live, path, auth(live.keys["admin"]))
    assert got.status_code == 200, got.text


def test_head_keeps_the_configuration_etag(live: Any) -> None:
    head = httpx.head(live.url + "/v1/agent/config", headers=auth(live.keys["admin"]))
    assert head.status_code == 200 and head.headers["etag"], head.headers


def test_head_is_authenticated_as_get_is(live: Any) -> None:
    assert _same_as_get(live, "/v1/agent/config").status_code == 401
    end_user = auth(live.keys["end_user"])
    assert _same_as_get(live, "/v1/agent/config", end_user).status_code == 403
    admin = auth(live.keys["admin"])
    assert _same_as_get(live, "/v1/procedures/no-such-procedure", admin).status_code == 404


def test_head_on_a_console_page_signed_out_redirects_as_get(live: Any) -> None:
    got = _same_as_get(live, "/ui/admin")
    assert got.status_code == 303 and got.headers["location"].startswith("/ui/login"), got.headers


def test_head_on_a_console_page_signed_in_answers_as_get(live: Any) -> None:
    cookie = _console_cookie(live, "admin")
    got = _same_as_get(live, "/ui/admin", cookie)
    assert got.status_code == 200 and "content-security-policy" in got.headers, got.headers
    assert _same_as_get(live, "/ui/admin/api/keys", cookie).status_code == 200


def test_allow_names_head_where_it_is_answered(live: Any) -> None:
    admin = auth(live.keys["admin"])
    cases = {
        ("POST", "/v1/health"): "GET, HEAD",
        ("POST", "/v1/agent/config"): "GET, HEAD, PATCH",
        ("DELETE", "/ui/admin"): "GET, HEAD",
        ("HEAD", "/v1/drafts"): "GET",  # rate-counted
        ("HEAD", "/v1/qa/golden"): "GET, POST",  # audited
    }
    for (method, path), allow in cases.items():
        refused = httpx.request(method, live.url + path, headers=admin)
        assert refused.status_code == 405, (method, path, refused.status_code)
        assert refused.headers["allow"] == allow, (method, path)


def test_head_on_a_one_time_link_is_refused_and_leaves_the_link_usable(live: Any) -> None:
    issued = httpx.post(live.url + "/ui/links", headers=auth(live.keys["admin"]), json={})
    assert issued.status_code == 200, issued.text
    path = issued.json()["path"]
    head = httpx.head(live.url + path)
    assert head.status_code == 405 and head.headers["allow"] == "GET, POST", head.headers
    signed_in = httpx.get(live.url + path)
    assert signed_in.status_code == 200, signed_in.text
    assert signed_in.headers["set-cookie"].startswith("clearline_session="), signed_in.headers


def test_head_on_the_golden_set_writes_no_audit_entry(live: Any) -> None:
    admin = auth(live.keys["admin"])
    assert httpx.head(live.url + "/v1/qa/golden", headers=admin).status_code == 405
    audit = httpx.get(live.url + "/v1/audit", headers=admin, params={"limit": 1000}).json()
    assert "qa.golden.export" not in {e["action"] for e in audit["entries"]}


def test_every_get_route_is_decided_for_head(live: Any) -> None:
    """A new GET route fails here until service/head.py lists it in HEAD_ROUTES or, with
    the side effect that rules HEAD out, in NO_HEAD."""
    gets = {
        r.path
        for r in iter_route_contexts(live.app.router.routes)
        if r.methods and "GET" in r.methods and "HEAD" not in r.methods
    }
    assert not HEAD_ROUTES & set(NO_HEAD)
    assert gets - HEAD_ROUTES - set(NO_HEAD) == set(), "decide HEAD for these routes"
    assert (HEAD_ROUTES | set(NO_HEAD)) - gets == set(), "not GET routes of the app"
