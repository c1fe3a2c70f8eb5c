"""The AI hub: every AI feature with a plain description (service/data/ai_features.yaml),
whether it is generative, whether it is on for the tenant, which models and data it uses,
and its last change (from the audit log)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from agent.config import AgentConfig

FEATURES_FILE = Path(__file__).parent / "data" / "ai_features.yaml"


@dataclass(frozen=True)
class FeatureSpec:
    name: str
    description: str
    generative: bool
    models: tuple[str, ...]
    data: tuple[str, ...]
    switch: str | None = None


@dataclass(frozen=True)
class HubFeature:
    name: str
    description: str
    generative: bool
    switchable: bool
    enabled: bool  # the tenant's switch (always True for what cannot be switched)
    active: bool  # enabled and able to run (a chat-model feature needs a chat model)
    models: list[str]
    data: list[str]
    last_change: dict[str, Any] | None = field(default=None)


@cache
def feature_specs() -> tuple[FeatureSpec, ...]:
    raw = yaml.safe_load(FEATURES_FILE.read_text(encoding="utf-8"))
    return tuple(
        FeatureSpec(
            item["name"],
            " ".join(str(item["description"]).split()),
            bool(item["generative"]),
            tuple(item.get("models") or ()),
            tuple(item.get("data") or ()),
            item.get("switch"),
        )
        for item in raw["features"]
    )


def _last_switches(sessions: sessionmaker[Session], tenant: str) -> dict[str, dict[str, Any]]:
    """Each feature's latest switch (PUT /v1/features/{name} or a configuration change that
    names it): when, by which key, on or off, from the audit log."""
    sql = text(
        "SELECT action, detail, actor, created_at FROM audit_log WHERE tenant = :t AND "
        "action IN ('feature.switch', 'agent.config') ORDER BY id"
    )
    with sessions() as session:
        rows = session.execute(sql, {"t": tenant}).all()
    last: dict[str, dict[str, Any]] = {}
    for action, detail, actor, at in rows:
        body = json.loads(detail)
        if action == "feature.switch":
            switched = {str(body.get("name")): body.get("enabled")}
        else:
            switched = dict((body.get("changes") or {}).get("features") or {})
        for name, enabled in switched.items():
            last[name] = {"at": str(at), "by": actor, "enabled": bool(enabled), "via": action}
    return last


def hub(
    sessions: sessionmaker[Session], tenant: str, config: AgentConfig, models: dict[str, str]
) -> list[HubFeature]:
    """The tenant's features; `models` names the model kinds in use (embedder, chat,
    answerability)."""
    last = _last_switches(sessions, tenant)
    chat_configured = "chat" in models
    listed = []
    for spec in feature_specs():
        enabled = config.enabled(spec.switch) if spec.switch else True
        active = enabled and (chat_configured or "chat" not in spec.models)
        used = [
            models.get(kind, "no chat model configured" if kind == "chat" else kind)
            for kind in spec.models
        ]
        listed.append(
            HubFeature(
                spec.name,
                spec.description,
                spec.generative,
                spec.switch is not None,
                enabled,
                active,
                used,
                list(spec.data),
                last.get(spec.switch or ""),
            )
        )
    return listed
