"""The AI hub over HTTP: every AI feature listed with a plain description, generative or
not, on or off, models and data; switching one shows as its last change and is audited."""

from __future__ import annotations

from pathlib import Path

import httpx

from agent.config import FEATURES
from tests.conftest import LiveServer, free_port
from tests.service.helpers import auth


def test_hub_lists_every_feature_and_its_last_switch(tmp_path: Path) -> None:
    from service.settings import Settings

    settings = Settings(data_dir=tmp_path / "data", port=free_port())
    with LiveServer(settings) as live:
        runtime = live.runtime
        runtime.tenants.create("acme", "eu")
        admin = auth(runtime.tenants.create_key("acme", "admin"))
        agent = auth(runtime.tenants.create_key("acme", "agent"))
        url = f"{live.url}/v1/ai/features"

        listed = httpx.get(url, headers=admin, timeout=30)
        assert listed.status_code == 200, listed.text
        features = {f["name"]: f for f in listed.json()}
        for name, (_, generative) in FEATURES.items():  # every switch has its entry
            assert features[name]["switchable"] is True
            assert features[name]["generative"] is generative
            assert features[name]["last_change"] is None
        for feature in features.values():
            assert len(feature["description"]) > 40 and feature["data"]
        assert features["generative_composition"]["enabled"] is False
        assert "no chat model configured" in features["generative_composition"]["models"]
        assert features["answering"]["switchable"] is False
        assert features["answering"]["enabled"] is True
        assert runtime.embedder.name in features["answering"]["models"]

        switched = httpx.put(f"{live.url}/v1/features/sentiment", headers=admin,
                             json={"enabled": False}, timeout=30)  # fmt: skip
        assert switched.status_code == 200, switched.text
        turned_on = httpx.put(f"{live.url}/v1/features/query_rewriting", headers=admin,
                              json={"enabled": True}, timeout=30)  # fmt: skip
        assert turned_on.status_code == 200
        features = {f["name"]: f for f in httpx.get(url, headers=admin, timeout=30).json()}
        sentiment = features["sentiment"]
        assert sentiment["enabled"] is False and sentiment["active"] is False
        assert sentiment["last_change"]["enabled"] is False and sentiment["last_change"]["by"]
        rewriting = features["query_rewriting"]
        assert rewriting["enabled"] is True and rewriting["active"] is False  # no chat model

        audit = httpx.get(f"{live.url}/v1/audit", headers=admin, timeout=30).json()["entries"]
        switches = [(e["detail"]["name"], e["detail"]["enabled"]) for e in audit
                    if e["action"] == "feature.switch"]  # fmt: skip
        assert switches == [("sentiment", False), ("query_rewriting", True)]
        assert httpx.get(url, headers=agent, timeout=30).status_code == 403
        assert httpx.get(url, timeout=30).status_code == 401
