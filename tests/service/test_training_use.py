"""Training use over HTTP and the CLI: with the tenant's `training_use: denied` or an end
user's opt-out, nothing from those conversations reaches a golden set or a training export
(a unique phrase planted in each is searched for in every output); a permitted
conversation does reach both, with personal data replaced by placeholders."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.conftest import LiveServer, free_port
from tests.service.helpers import auth, seed_returns_policy

# One phrase per conversation; lowercase invented words, so no detector mistakes them for names.
PHRASES = {
    "denied": "quorbelt flimmerstack",  # globex: training_use denied (the default)
    "self_opt_out": "vantrolic dusperwane",  # acme end user who opted out first
    "admin_opt_out": "glimbrock terraspun",  # acme end user opted out by an admin, later
    "anonymous_opt_out": "plintharo mezzowick",  # acme conversation without end_user_id
    "permitted": "ozzelbrim cantaflux",  # acme, allowed and not opted out
}
EMAIL = "permitted.person@example.com"


class EndUser:
    def __init__(self, url: str, key: str, end_user_id: str | None) -> None:
        body = {"end_user_id": end_user_id} if end_user_id else {}
        started = httpx.post(f"{url}/v1/conversations", headers=auth(key), json=body).json()
        self.url, self.id = url, started["conversation_id"]
        self.headers = {**auth(key), "X-Conversation-Token": started["conversation_token"]}

    def say(self, text: str) -> str:
        response = httpx.post(f"{self.url}/v1/conversations/{self.id}/messages",
                              headers=self.headers, json={"text": text}, timeout=120)  # fmt: skip
        assert response.status_code == 200, response.text
        trace_id: str = response.json()["trace_id"]
        return trace_id

    def opt_out(self) -> dict[str, Any]:
        response = httpx.post(f"{self.url}/v1/conversations/{self.id}/training-opt-out",
                              headers=self.headers, timeout=30)  # fmt: skip
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


def _review(url: str, qa: str, trace_id: str, phrase: str) -> None:
    response = httpx.post(f"{url}/v1/qa/reviews", headers=auth(qa), timeout=30, json={
        "trace_id": trace_id, "verdict": "partially_correct",
        "corrected_answer": f"Within 30 days ({phrase} correction).",
    })  # fmt: skip
    assert response.status_code == 201, response.text


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Every output that learns from conversations, as text, by name."""
    from service.cli import main
    from service.settings import Settings

    root = tmp_path_factory.mktemp("training")
    settings = Settings(data_dir=root / "data", port=free_port())
    found: dict[str, str] = {}
    with LiveServer(settings) as live:
        runtime, url = live.runtime, live.url
        keys: dict[str, dict[str, str]] = {}
        for tenant in ("acme", "globex"):
            runtime.tenants.create(tenant, "eu")
            seed_returns_policy(runtime, tenant)
            keys[tenant] = {
                "admin": runtime.tenants.create_key(tenant, "admin"),
                "qa": runtime.tenants.create_key(tenant, "qa_lead"),
                "backend": runtime.tenants.create_key(tenant, "end_user", asserts_identity=True),
            }
        allowed = httpx.put(f"{url}/v1/customer-control", headers=auth(keys["acme"]["admin"]),
                            json={"training_use": "allowed"})  # fmt: skip
        assert allowed.status_code == 200 and allowed.json()["training_use"] == "allowed"
        acme, globex = keys["acme"], keys["globex"]
        question = "Can I return a defective item? ({})"

        denied = EndUser(url, globex["backend"], "g-user")
        _review(url, globex["qa"], denied.say(question.format(PHRASES["denied"])),
                PHRASES["denied"])  # fmt: skip

        self_out = EndUser(url, acme["backend"], "u-self")
        assert self_out.opt_out()["golden_cases_removed"] == 0
        _review(url, acme["qa"], self_out.say(question.format(PHRASES["self_opt_out"])),
                PHRASES["self_opt_out"])  # fmt: skip

        later = EndUser(url, acme["backend"], "u-later")
        _review(url, acme["qa"], later.say(question.format(PHRASES["admin_opt_out"])),
                PHRASES["admin_opt_out"])  # fmt: skip
        golden = httpx.get(f"{url}/v1/qa/golden", headers=auth(acme["qa"])).text
        assert PHRASES["admin_opt_out"] in golden  # permitted until the opt-out below
        opted = httpx.put(f"{url}/v1/training/opt-outs/u-later", headers=auth(acme["admin"]))
        assert opted.status_code == 200 and opted.json()["golden_cases_removed"] == 1

        anonymous = EndUser(url, acme["backend"], None)
        anonymous.opt_out()
        _review(url, acme["qa"], anonymous.say(question.format(PHRASES["anonymous_opt_out"])),
                PHRASES["anonymous_opt_out"])  # fmt: skip

        permitted = EndUser(url, acme["backend"], "u-ok")
        trace = permitted.say(f"I am at {EMAIL}. " + question.format(PHRASES["permitted"]))
        _review(url, acme["qa"], trace, PHRASES["permitted"])

        for tenant in ("acme", "globex"):
            qa, admin = auth(keys[tenant]["qa"]), auth(keys[tenant]["admin"])
            found[f"golden {tenant}"] = httpx.get(f"{url}/v1/qa/golden", headers=qa).text
            found[f"audit {tenant}"] = httpx.get(f"{url}/v1/audit", headers=admin,
                                                 params={"limit": 1000}).text  # fmt: skip
    for tenant in ("acme", "globex"):
        out = root / f"{tenant}.jsonl"
        code = main(["training", "export", "--tenant", tenant, "--out", str(out), "--json",
                     "--data-dir", str(settings.data_dir)])  # fmt: skip
        assert code == 0
        found[f"export {tenant}"] = out.read_text(encoding="utf-8")
    return found


@pytest.mark.parametrize("name", ["denied", "self_opt_out", "admin_opt_out", "anonymous_opt_out"])
def test_nothing_of_a_forbidden_conversation_reaches_any_output(
    outputs: dict[str, str], name: str
) -> None:
    for output, text in outputs.items():
        assert PHRASES[name] not in text, f"{name} phrase in {output}"


def test_a_permitted_conversation_reaches_golden_set_and_export_masked(
    outputs: dict[str, str],
) -> None:
    assert PHRASES["permitted"] in outputs["golden acme"]
    lines = [json.loads(line) for line in outputs["export acme"].splitlines()]
    assert len(lines) == 1
    [line] = lines
    texts = " ".join(m["text"] for m in line["messages"]) + " ".join(line["corrections"])
    assert PHRASES["permitted"] in texts and EMAIL not in outputs["export acme"]
    assert "[EMAIL_ADDRESS]" in texts
    assert outputs["export globex"] == ""


def test_the_record_says_which_data_was_used(outputs: dict[str, str]) -> None:

    entries = json.loads(outputs["audit acme"])["entries"]
    golden = [e["detail"] for e in entries if e["action"] == "training.golden"]
    assert sorted((d["used"], d["reason"]) for d in golden) == [
        (False, "end user opted out"), (False, "end user opted out"),
        (True, "permitted"), (True, "permitted"),
    ]  # fmt: skip
    globex = json.loads(outputs["audit globex"])["entries"]
    assert [e["detail"]["reason"] for e in globex if e["action"] == "training.golden"] == [
        "tenant training_use is denied"
    ]
