"""A job interrupted by a stop is picked up again when the server starts: nothing lost."""

from __future__ import annotations

import shutil
from typing import Any

from control.models import Job
from control.regional import in_region
from service.runtime import Runtime
from tests.conftest import DATA, LiveServer
from tests.service.helpers import wait_job


def test_interrupted_job_resumes_on_start(make_settings: Any) -> None:
    settings = make_settings()
    runtime = Runtime(settings)
    runtime.tenants.create("acme", "eu")
    key = runtime.tenants.create_key("acme", "admin")
    work_dir = runtime.uploads_dir("acme") / "job-1" / "0"
    assert work_dir.is_relative_to(settings.region_dir("eu"))  # uploads stay in the region
    work_dir.mkdir(parents=True)
    shutil.copy(DATA / "valid" / "contact.txt", work_dir / "contact.txt")
    with in_region("eu"), runtime.sessions.begin() as session:  # as a killed server left it
        session.add(
            Job(
                id="job-1",
                tenant="acme",
                status="running",
                total=1,
                done=0,
                work_dir=str(work_dir.parent),
            )
        )
    runtime.close()

    with LiveServer(settings) as live:
        job = wait_job(live.url, key, "job-1")
    assert job["status"] == "succeeded"
    assert [r["document_id"] for r in job["results"]] == ["contact.txt"]
    assert not work_dir.parent.exists()  # the upload is cleaned up once ingested
