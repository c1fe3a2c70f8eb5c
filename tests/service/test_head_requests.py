"""HEAD, as uptime monitors and link checkers send it, over HTTP against the live app: the
health check, the widget script and the console's static files answer HEAD as GET without
the body; every other route still answers 405 naming its methods. A one-time console link
is never consumed by a HEAD (a link scanner's HEAD would otherwise sign nobody in)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.service.helpers import acme_server, auth


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    with acme_server(tmp_path_factory, "head", ("admin",)) as server:
        yield server


@pytest.mark.parametrize("path", ["/v1/health", "/ui/widget.js", "/ui/static/css/app.css"])
def test_head_on_a_side_effect_free_route_answers_as_get_without_a_body(
    live: Any, path: str
) -> None:
    got = httpx.get(live.url + path)
    head = httpx.head(live.url + path)
    assert got.status_code == 200 and head.status_code == 200, head.headers
    assert head.content == b""
    assert head.headers["content-type"] == got.headers["content-type"]
    assert head.headers["content-length"] == str(len(got.content))


def test_head_on_a_missing_static_file_is_404(live: Any) -> None:
    assert httpx.head(live.url + "/ui/static/css/nothing.css").status_code == 404


def test_other_methods_on_the_health_check_name_head_in_allow(live: Any) -> None:
    refused = httpx.post(live.url + "/v1/health")
    assert refused.status_code == 405
    assert refused.headers["allow"] == "GET, HEAD"


def test_head_on_a_one_time_link_is_refused_and_leaves_the_link_usable(live: Any) -> None:
    issued = httpx.post(live.url + "/ui/links", headers=auth(live.keys["admin"]), json={})
    assert issued.status_code == 200, issued.text
    path = issued.json()["path"]
    head = httpx.head(live.url + path)
    assert head.status_code == 405 and head.headers["allow"] == "GET, POST", head.headers
    signed_in = httpx.get(live.url + path)
    assert signed_in.status_code == 200, signed_in.text
    assert signed_in.headers["set-cookie"].startswith("clearline_session="), signed_in.headers


def test_head_on_an_api_route_is_still_405(live: Any) -> None:
    head = httpx.head(live.url + "/v1/drafts", headers=auth(live.keys["admin"]))
    assert head.status_code == 405 and head.headers["allow"] == "GET", head.headers
