"""`make run`: the demo tenant on the sample knowledge base, the retailer's procedures, and
the local actions service they call."""

from __future__ import annotations

import importlib.util
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from control.errors import ConfigurationError
from conversations.connections import ConnectionSpec
from ingest.sources import expand
from service.runtime import Runtime
from service.serving import ThreadedServer
from service.settings import Settings
from service.ui.store import console_links, issue_login_links

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
TENANT = "demo"
CONNECTION = "northwind"  # the name examples/procedures/*.yaml call through


@dataclass(frozen=True)
class Demo:
    documents: dict[str, int]
    procedures: list[str]
    keys: dict[str, str]
    logins: dict[str, str]  # role -> one-time console login token


def configure_connection(runtime: Runtime) -> None:
    """The demo tenant's `northwind` connection: the sample actions service on
    `CLEARLINE_ACTIONS_URL` with its bearer token (stored encrypted, like any tenant's)."""
    settings = runtime.settings
    token = settings.actions_token.get_secret_value()
    spec = ConnectionSpec(settings.actions_url, secrets={"Authorization": f"Bearer {token}"})
    runtime.agents.put_connection(TENANT, CONNECTION, spec)


def set_up(runtime: Runtime) -> Demo:
    """Ingest the sample knowledge base, configure the demo tenant's connection to the
    sample actions service, load the procedures and set the intents that start none
    (examples/intents.yaml; all idempotent)."""
    runtime.ensure_tenant(TENANT)
    with runtime.ingestor(TENANT) as ingestor:
        results = ingestor.run(TENANT, list(expand([EXAMPLES / "knowledge"])))
    sources = [
        p.read_text(encoding="utf-8") for p in sorted((EXAMPLES / "procedures").glob("*.yaml"))
    ]
    stored = runtime.agents.procedure_sources(TENANT)
    for text in sources:  # replaced below; earlier versions may predate connections
        if (procedure_id := str(yaml.safe_load(text)["id"])) in stored:
            runtime.agents.delete_procedure(TENANT, procedure_id)
    configure_connection(runtime)
    procedures = [runtime.agents.put_procedure(TENANT, text) for text in sources]
    intents = yaml.safe_load((EXAMPLES / "intents.yaml").read_text(encoding="utf-8"))
    configured = runtime.agents.config(TENANT).intents  # an admin's own intents stay
    if any(configured.get(name) != examples for name, examples in intents.items()):
        runtime.agents.update(TENANT, {"intents": intents})
    golden = EXAMPLES / "golden.jsonl"
    runtime.golden.import_jsonl(TENANT, golden.read_text(encoding="utf-8"), golden.name)
    keys = {
        role: runtime.tenants.create_key(TENANT, role, "make run")
        for role in ("admin", "end_user", "agent", "qa_lead")
    }
    logins = issue_login_links(runtime.settings.data_dir, TENANT, keys)
    return Demo(dict(Counter(r.status for r in results)), procedures, keys, logins)


def _actions_module() -> Any:
    path = EXAMPLES / "actions_service.py"
    spec = importlib.util.spec_from_file_location("northwind_actions_service", path)
    if spec is None or spec.loader is None:
        raise ConfigurationError(f"cannot load the sample actions service from {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def start_actions_service(settings: Settings) -> ThreadedServer:
    """Serve the sample actions service on `settings.actions_url` (loopback only), in a
    thread; `stop()` the returned server to end it."""
    parts = urlsplit(settings.actions_url)
    if parts.hostname not in ("127.0.0.1", "localhost") or parts.port is None:
        raise ConfigurationError(
            f"CLEARLINE_ACTIONS_URL={settings.actions_url}: the demo serves the sample actions "
            "service on a loopback address with a port, e.g. http://127.0.0.1:8765"
        )
    app = _actions_module().create_actions_app(settings.actions_token.get_secret_value())
    server = ThreadedServer(app, parts.hostname, parts.port, "the sample actions service")
    try:
        return server.start()
    except RuntimeError as error:
        raise ConfigurationError(
            f"{error}; is the port in use? set CLEARLINE_ACTIONS_URL to another port"
        ) from None


def walkthrough(url: str, demo: Demo) -> str:
    k = demo.keys
    user = f"-H 'Authorization: Bearer {k['end_user']}' -H 'Content-Type: application/json'"
    return (
        f"\nDemo tenant '{TENANT}': sample documents {demo.documents}, procedures "
        f"{', '.join(demo.procedures)}; serving on {url}\n"
        f"  admin key:    {k['admin']}\n  end-user key: {k['end_user']}\n"
        f"  agent key:    {k['agent']}\n  qa-lead key:  {k['qa_lead']}\n\n"
        + console_links(url, demo.logins)
        + "\n"
        "Try (README.md walks through this):\n"
        f"  curl -X POST {url}/v1/conversations {user} -d '{{}}'\n"
        "    (gives conversation_id CONV and conversation_token TOKEN)\n"
        f"  curl -X POST {url}/v1/conversations/CONV/messages {user} "
        "-H 'X-Conversation-Token: TOKEN' "
        '-d \'{"text": "What payment methods do you accept?"}\'\n'
        f"  curl -X POST {url}/v1/conversations/CONV/messages {user} "
        "-H 'X-Conversation-Token: TOKEN' "
        '-d \'{"text": "I forgot my password"}\'\n'
        f"  curl -H 'Authorization: Bearer {k['qa_lead']}' {url}/v1/traces/TRACE_ID\n"
        f"  open {url}/docs for the OpenAPI reference\n\n"
    )
