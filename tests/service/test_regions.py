"""Regions over HTTP: two tenants in two regions, two recording fake chat endpoints. Each
endpoint receives only its region's tenant's (masked) text; each region's data root holds
only its tenant's data, documents and conversations alike, and nothing of theirs is
outside the region roots (byte scan for each tenant's canaries); each trace records the
region and the endpoint that served the model call; usage counts them by region."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.agent.test_chat import Action, FakeOpenAIServer
from tests.conftest import LiveServer, free_port
from tests.service.helpers import auth, upload, wait_job

TENANTS = {"euco": "eu", "usco": "us"}
DOC_CANARY = {"euco": "brindlewaft", "usco": "quasperholt"}
MESSAGE_CANARY = {"euco": "morrowflint", "usco": "tazzelgrove"}
EMAIL = {"euco": "eu.customer@example.com", "usco": "us.customer@example.com"}


def _files_with(root: Path, needle: str) -> list[str]:
    found = []
    for path in root.rglob("*"):
        if path.is_file() and needle.encode() in path.read_bytes():
            found.append(str(path))
    return found


def test_each_region_keeps_its_tenants_data_and_model_calls(tmp_path: Path) -> None:
    from service.settings import Settings

    with FakeOpenAIServer() as eu_model, FakeOpenAIServer() as us_model:
        endpoints = {"eu": eu_model, "us": us_model}
        settings = Settings(
            data_dir=tmp_path / "data", port=free_port(), chat_model="regional-model",
            region_chat_base_urls={"eu": eu_model.base_url, "us": us_model.base_url},
        )  # fmt: skip
        with LiveServer(settings) as live:
            runtime, url = live.runtime, live.url
            traces: dict[str, str] = {}
            for tenant, region in TENANTS.items():
                runtime.tenants.create(tenant, region)
                admin = runtime.tenants.create_key(tenant, "admin")
                user = runtime.tenants.create_key(tenant, "end_user")
                qa = runtime.tenants.create_key(tenant, "qa_lead")
                doc = tmp_path / f"{tenant}-returns.md"
                doc.write_text(
                    f"# Returns at {tenant}\n\nYou can return a defective item within 30 days "
                    f"of delivery for a full refund. Reference code {DOC_CANARY[tenant]}.\n"
                )
                job = upload(url, admin, doc).json()["id"]
                assert wait_job(url, admin, job)["status"] == "succeeded", job
                on = httpx.put(f"{url}/v1/features/generative_composition", headers=auth(admin),
                               json={"enabled": True})  # fmt: skip
                assert on.status_code == 200
                endpoints[region].queue.append(Action(reply="Within 30 days of delivery [1]."))
                started = httpx.post(f"{url}/v1/conversations", headers=auth(user), json={}).json()
                headers = {**auth(user), "X-Conversation-Token": started["conversation_token"]}
                text = (f"I am {EMAIL[tenant]}, order {MESSAGE_CANARY[tenant]}: how long do I "
                        "have to return a defective item?")  # fmt: skip
                reply = httpx.post(
                    f"{url}/v1/conversations/{started['conversation_id']}/messages",
                    headers=headers, json={"text": text}, timeout=120,
                ).json()  # fmt: skip
                trace = httpx.get(f"{url}/v1/traces/{reply['trace_id']}", headers=auth(qa))
                traces[tenant] = trace.text
                assert trace.json()["models"]["region"] == region
                compose = next(s for s in trace.json()["steps"] if s["name"] == "compose")
                assert compose["generative"] and endpoints[region].base_url in compose["model"]
                usage = httpx.get(f"{url}/v1/ai/usage", headers=auth(admin)).json()["usage"]
                assert [(u["region"], u["endpoint"]) for u in usage] == [
                    (region, endpoints[region].base_url)
                ]

    for tenant, region in TENANTS.items():
        other = next(t for t in TENANTS if t != tenant)
        received = str(endpoints[region].requests)
        assert endpoints[region].requests, f"{region} endpoint got nothing"
        assert MESSAGE_CANARY[tenant] in received and DOC_CANARY[tenant] in received
        assert MESSAGE_CANARY[other] not in received and DOC_CANARY[other] not in received
        assert EMAIL[tenant] not in received  # masked before it left
        root = settings.region_dir(region)
        assert _files_with(root, DOC_CANARY[tenant])  # its data is here
        assert _files_with(root, DOC_CANARY[other]) == []  # and nobody else's
        assert _files_with(root, MESSAGE_CANARY[other]) == []
        assert _files_with(root, MESSAGE_CANARY[tenant])  # its conversations are here too
    # Nothing of any tenant outside its region's root (the directory holds tenants and keys).
    data_dir = settings.data_dir
    outside = [
        path
        for canary in [*DOC_CANARY.values(), *MESSAGE_CANARY.values()]
        for path in _files_with(data_dir, canary)
        if Path(path).relative_to(data_dir).parts[0] != "regions"
    ]
    assert outside == []
