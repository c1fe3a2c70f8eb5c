"""Knowledge sources: upload (as a background job), list, restate who one is written for,
delete; job status."""

from __future__ import annotations

import shutil
from typing import Literal

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict
from starlette.concurrency import run_in_threadpool

from control.errors import NotFound
from control.models import Job
from knowledge.audience import AGENT, CUSTOMER
from knowledge.audience_change import restate_audience
from service.deps import AdminDep, JobsDep, RuntimeDep, UploadLimit
from service.errors import BadUpload, PayloadTooLarge
from service.jobs import write_upload_options
from service.routes.privacy import PrivacyDep
from service.schemas import ErrorResponse, JobPublic, SourceList, SourcePublic
from service.uploads import receive_files

router = APIRouter(tags=["knowledge"])
_ERRORS: dict[int | str, dict[str, object]] = {
    code: {"model": ErrorResponse} for code in (400, 401, 403, 404, 413)
}


@router.post(
    "/v1/knowledge/sources", status_code=202, response_model=JobPublic, responses=_ERRORS,
    dependencies=[UploadLimit],  # per client address and per key: service/rate_limits.py
)  # fmt: skip
async def upload_sources(
    request: Request,
    principal: AdminDep,
    runtime: RuntimeDep,
    jobs: JobsDep,
    audience: str | None = None,
) -> JobPublic:
    """Upload files (multipart, field `files`); returns the ingestion job to poll.
    `audience` (`agent` or `customer`) states who the files are written for; left out,
    Clearline decides from each file's text (knowledge/audience.py). A document written for
    the agent is quoted for its facts only, never for its steps."""
    if audience is not None and audience not in (AGENT, CUSTOMER):
        raise BadUpload(
            f"audience '{audience[:40]}' is not one Clearline knows: use '{AGENT}' (written "
            f"for your agents) or '{CUSTOMER}' (written for your customers), or leave it out "
            "to let Clearline decide; nothing was uploaded"
        )
    # A knowledge database that cannot be opened refuses the upload before it is received.
    await run_in_threadpool(runtime.store, principal.tenant)
    settings = runtime.settings
    limit = settings.max_file_bytes
    declared = request.headers.get("content-length")
    if (
        declared
        and declared.isdigit()
        and int(declared) > limit * settings.max_upload_files + 1048576
    ):
        raise PayloadTooLarge(
            f"the upload is {int(declared) / 1048576:.1f} MB, more than "
            f"{settings.max_upload_files} files of {settings.max_file_mb:g} MB; send it in batches"
        )
    job_id, work_dir = jobs.new_work_dir(principal.tenant)
    try:
        names = await receive_files(
            request.headers.get("content-type", ""),
            request.stream(),
            work_dir,
            limit,
            settings.max_upload_files,
        )
    except Exception:
        shutil.rmtree(work_dir, ignore_errors=True)
        raise

    def queue() -> Job:  # in the thread pool: a busy database holds up this request only
        try:
            if audience is not None:
                write_upload_options(work_dir, audience)
            job = jobs.submit(job_id, principal.tenant, work_dir)
        except BaseException:  # no job will read them: the files are not kept
            shutil.rmtree(work_dir, ignore_errors=True)
            raise
        runtime.audit(
            principal.tenant, principal.key_id, "knowledge.upload", job=job_id, files=names,
            audience=audience or "detected",
        )  # fmt: skip
        return job

    return JobPublic.of(await run_in_threadpool(queue))


@router.get("/v1/jobs/{job_id}", response_model=JobPublic, responses=_ERRORS)
def get_job(job_id: str, principal: AdminDep, jobs: JobsDep) -> JobPublic:
    """Progress and per-file results of an ingestion job of the caller's tenant."""
    return JobPublic.of(jobs.get(principal.tenant, job_id))


@router.get("/v1/knowledge/sources", response_model=SourceList, responses=_ERRORS)
def list_sources(principal: AdminDep, runtime: RuntimeDep) -> SourceList:
    """Every knowledge source of the caller's tenant."""
    records = runtime.store(principal.tenant).list_documents(principal.tenant)
    return SourceList(sources=[SourcePublic.of(r) for r in records])


class AudienceChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    audience: Literal["agent", "customer"]


@router.patch(
    "/v1/knowledge/sources/{document_id:path}", response_model=SourcePublic, responses=_ERRORS
)
def restate_source_audience(
    document_id: str, body: AudienceChange, principal: AdminDep, runtime: RuntimeDep
) -> SourcePublic:
    """State who a source is written for (`agent`: quoted for its facts only, never for its
    steps; `customer`), correcting what Clearline detected, without uploading it again.
    Takes effect from the next question; the audit log records it."""
    store = runtime.store(principal.tenant)
    restated = restate_audience(store, principal.tenant, document_id, body.audience)
    if restated is None:
        raise NotFound(
            f"source '{document_id[:200]}' is not in this tenant's knowledge; "
            "GET /v1/knowledge/sources lists them"
        )
    runtime.audit(principal.tenant, principal.key_id, "source.audience", **restated.audit_detail())
    return SourcePublic.of(restated.record)


@router.delete("/v1/knowledge/sources/{document_id:path}", status_code=204, responses=_ERRORS)
def delete_source(
    document_id: str, principal: AdminDep, privacy: PrivacyDep, with_replies: bool = False
) -> Response:
    """Remove a source from the registry and every index, and its text from the passages
    traces recorded (no byte of it remains); `with_replies=true` also removes its sentences
    from replies already shown to end users."""
    privacy.sources.delete(principal.tenant, document_id, principal.key_id, with_replies)
    return Response(status_code=204)
