"""Ids a client sends to routes beyond conversations, drafts, ratings and knowledge sources
(jobs, traces, QA reviews, action connections, procedures, redaction suggestions, training
opt-outs) are echoed in errors cut after 80 characters with an ellipsis and with control
characters escaped: never whole, never raw."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.service.helpers import acme_server, auth

LONG = "x" * 2000
CUT = "'" + "x" * 80 + "…'"
EVIL = "id%0A%1Bevil"  # sent percent-encoded in the path: a line break and an escape
ESCAPED = "'id\\n\\x1bevil'"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Any:
    with acme_server(tmp_path_factory, "bad-ids", ("admin", "qa_lead")) as live:
        yield live


def call(server: Any, role: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
    return httpx.request(method, server.url + path, timeout=120,
                         headers=auth(server.keys[role]), **kwargs)  # fmt: skip


def refused(response: httpx.Response, status: int, message: str, sent: str) -> None:
    assert response.status_code == status, response.text[:500]
    shown = response.json()["error"]["message"]
    assert shown == message
    assert sent not in response.text
    assert "\n" not in shown and "\x1b" not in shown


@pytest.mark.parametrize(
    ("role", "method", "path", "message"),
    [
        ("admin", "GET", "/v1/jobs/{}", "no job {} for this tenant"),
        ("qa_lead", "GET", "/v1/traces/{}", "trace {} does not exist"),
        ("admin", "GET", "/v1/actions/connections/{}", "connection {} does not exist"),
        ("admin", "DELETE", "/v1/actions/connections/{}", "connection {} does not exist"),
        ("admin", "GET", "/v1/procedures/{}", "procedure {} does not exist"),
        ("admin", "GET", "/v1/conversations/{}/redactions", "no conversation {} for this tenant"),
    ],
)
def test_an_unknown_id_in_the_path_is_echoed_cut_and_escaped(
    server: Any, role: str, method: str, path: str, message: str
) -> None:
    refused(call(server, role, method, path.format(LONG)), 404, message.format(CUT), LONG)
    refused(call(server, role, method, path.format(EVIL)), 404, message.format(ESCAPED),
            "id\n\x1bevil")  # fmt: skip


def test_an_unknown_trace_in_a_qa_review_is_echoed_cut_and_escaped(server: Any) -> None:
    for sent, shown in ((LONG, CUT), ("id\n\x1bevil", ESCAPED)):
        review = call(server, "qa_lead", "POST", "/v1/qa/reviews",
                      json={"trace_id": sent, "verdict": "correct"})  # fmt: skip
        refused(review, 404, f"trace {shown} does not exist", sent)


def test_an_unknown_opt_out_is_echoed_cut(server: Any) -> None:
    # End-user ids are at most 200 printable characters (longer ones are refused with a 422
    # that does not echo them), so the longest one that reaches the lookup is cut here.
    sent = "u" * 200
    refused(call(server, "admin", "DELETE", f"/v1/training/opt-outs/{sent}"), 404,
            "'" + "u" * 80 + "…' has not opted out of training use", sent)  # fmt: skip
    too_long = call(server, "admin", "DELETE", f"/v1/training/opt-outs/{LONG}")
    assert too_long.status_code == 422, too_long.text[:500]
    assert LONG not in too_long.text
