"""A document of tenant A never comes back for tenant B: routes, CLI, every index."""

from __future__ import annotations

import json
from typing import Any

import httpx

from tests.conftest import DATA, LiveServer
from tests.service.helpers import auth, upload, wait_job
from tests.service.test_cli import clearline


def test_tenant_isolation_everywhere(make_settings: Any, tmp_path: Any) -> None:
    settings = make_settings()
    with LiveServer(settings) as live:
        tenants = live.runtime.tenants
        tenants.create("acme", "eu")
        tenants.create("globex", "eu")  # same region: same database, separate partitions
        acme = tenants.create_key("acme", "admin")
        globex = tenants.create_key("globex", "admin")
        job = upload(live.url, acme, DATA / "valid" / "warranty.html").json()
        wait_job(live.url, acme, job["id"])
        job = upload(live.url, globex, DATA / "valid" / "contact.txt").json()
        wait_job(live.url, globex, job["id"])

        listed = httpx.get(f"{live.url}/v1/knowledge/sources", headers=auth(globex)).json()
        assert [s["document_id"] for s in listed["sources"]] == ["contact.txt"]

        store = live.runtime.store("globex")
        acme_chunks = store.document_chunks("acme", "warranty.html")
        assert acme_chunks
        acme_ids = {c.chunk_id for c in acme_chunks}
        text = acme_chunks[0].text
        assert acme_ids & {h.chunk_id for h in store.keyword_search("acme", text, 10)}
        assert not acme_ids & {h.chunk_id for h in store.keyword_search("globex", text, 10)}
        vector = live.runtime.embedder.embed([text])[0]
        assert not acme_ids & {h.chunk_id for h in store.vectors.query("globex", vector, 10)}
        assert not acme_ids & set(store.chunks("globex", list(acme_ids)))

    cli = clearline("sources", "--tenant", "globex", "--json", data_dir=settings.data_dir)
    assert [s["document_id"] for s in json.loads(cli.stdout)["sources"]] == ["contact.txt"]
    cli = clearline(
        "delete-source", "warranty.html", "--tenant", "globex", data_dir=settings.data_dir
    )
    assert cli.returncode == 1
    cli = clearline("sources", "--tenant", "acme", "--json", data_dir=settings.data_dir)
    assert [s["document_id"] for s in json.loads(cli.stdout)["sources"]] == ["warranty.html"]
