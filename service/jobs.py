"""Background ingestion jobs inside the server process, persisted with their progress.

Uploaded files are written to `<data-dir>/uploads/<job id>/` before the job is queued, so a
restart loses nothing: jobs that were running are queued again and, because ingestion is
idempotent (content hashes), finish where they left off.
"""

from __future__ import annotations

import json
import logging
import shutil
import threading
import uuid
from dataclasses import asdict, replace
from pathlib import Path

from sqlalchemy import select

from control.db import is_busy
from control.errors import NotFound, quoted
from control.models import Job, utcnow
from control.regional import in_region
from ingest.pipeline import IngestResult
from ingest.sources import BadSource, Source, sources_for_file, with_audience
from knowledge.audience import AUDIENCE
from knowledge.errors import DamagedFile
from service.errors import DAMAGED
from service.runtime import Runtime

logger = logging.getLogger(__name__)


OPTIONS_FILE = "options.json"  # beside the upload's numbered folders


def write_upload_options(work_dir: Path, audience: str) -> None:
    """Who the admin stated an upload's files are written for, kept with the files so that
    a job resumed after a restart reads it too."""
    (work_dir / OPTIONS_FILE).write_text(json.dumps({AUDIENCE: audience}), encoding="utf-8")


def upload_sources(work_dir: Path) -> list[Source | BadSource]:
    """Sources of an upload folder: `<n>/<original name>`, in upload order, stated as
    written for the audience the upload gave (write_upload_options), if any."""
    options_path = work_dir / OPTIONS_FILE
    options = json.loads(options_path.read_text("utf-8")) if options_path.exists() else {}
    audience = options.get(AUDIENCE)
    items: list[Source | BadSource] = []
    for slot in sorted((p for p in work_dir.iterdir() if p.is_dir()), key=lambda p: int(p.name)):
        for path in slot.iterdir():
            # People know an upload by its file name, not by the job folder it waits in.
            items.extend(
                with_audience(
                    replace(item, display=item.display.replace(str(path), path.name)), audience
                )
                for item in sources_for_file(path, path.name)
            )
    return items


class JobRunner:
    """Runs queued jobs one at a time on a background thread."""

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._again: list[tuple[str, str]] = []  # (region, job id) to run again

    def start(self) -> None:
        for _region in self._runtime.sessions.each_region():
            with self._runtime.sessions.begin() as session:
                for job in session.scalars(select(Job).where(Job.status == "running")):
                    job.status = "queued"
        self._thread = threading.Thread(target=self._loop, name="clearline-jobs", daemon=True)
        self._thread.start()
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def new_work_dir(self, tenant: str) -> tuple[str, Path]:
        """A new job id and the folder its uploads go to (in the tenant's region)."""
        job_id = str(uuid.uuid4())
        work_dir = self._runtime.uploads_dir(tenant) / job_id
        work_dir.mkdir(parents=True)
        return job_id, work_dir

    def submit(self, job_id: str, tenant: str, work_dir: Path) -> Job:
        job = Job(id=job_id, tenant=tenant, status="queued", work_dir=str(work_dir))
        with self._runtime.sessions.begin() as session:
            session.add(job)
        self._wake.set()
        return job

    def get(self, tenant: str, job_id: str) -> Job:
        with self._runtime.sessions() as session:
            job = session.get(Job, job_id)
        if job is None or job.tenant != tenant:
            raise NotFound(f"no job {quoted(job_id)} for this tenant")
        return job

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(timeout=2.0)
            self._wake.clear()
            try:
                self._run_queued()
            except Exception:  # e.g. a database still locked: the runner goes on
                logger.exception("the job runner failed; it looks for queued jobs again")

    def _run_queued(self) -> None:
        """Run queued jobs until none is left. A job that gives up waiting for a locked
        database is not failed for it: it runs again on the next round (ingestion is
        idempotent), after the runner's wait."""
        while not self._stop.is_set():
            queued = self._next()
            if queued is None:
                return
            region, job_id = queued
            with in_region(region):
                try:
                    self._run(job_id)
                except DamagedFile as error:  # the operator repairs it (its log line)
                    logger.error("job %s failed: %s", job_id, error)
                    self._update(job_id, status="failed", error=DAMAGED)
                except Exception as error:
                    if is_busy(error):
                        logger.warning("job %s gave up waiting for the database (%s); it "
                                       "runs again", job_id, error)  # fmt: skip
                        self._again.append(queued)
                        return
                    logger.exception("job %s failed", job_id)  # the job fails, the rest run
                    self._update(job_id, status="failed", error=f"internal error: {error}")

    def _next(self) -> tuple[str, str] | None:
        """The region and id of a job to run again, else of the oldest queued job of the
        first region that has one."""
        if self._again:
            return self._again.pop(0)
        for region in self._runtime.sessions.each_region():
            with self._runtime.sessions() as session:
                job_id = session.scalars(
                    select(Job.id).where(Job.status == "queued").order_by(Job.created_at)
                ).first()
            if job_id is not None:
                return region, job_id
        return None

    def _update(self, job_id: str, **fields: object) -> None:
        with self._runtime.sessions.begin() as session:
            job = session.get(Job, job_id)
            if job is None:
                return
            for name, value in fields.items():
                setattr(job, name, value)
            job.updated_at = utcnow()

    def _run(self, job_id: str) -> None:
        with self._runtime.sessions() as session:
            job = session.get(Job, job_id)
            assert job is not None
            tenant, work_dir = job.tenant, Path(job.work_dir)
        items = upload_sources(work_dir)
        self._update(job_id, status="running", total=len(items), done=0, results="[]")
        results: list[dict[str, object]] = []

        def progress(result: IngestResult) -> None:
            results.append(asdict(result))
            self._update(job_id, done=len(results), results=json.dumps(results))

        with self._runtime.ingestor(tenant) as ingestor:
            final = ingestor.run(tenant, items, on_result=progress)
        failed = sum(1 for r in final if r.status == "failed")
        status = "succeeded" if failed == 0 else ("failed" if failed == len(final) else "partial")
        self._update(
            job_id,
            status=status,
            done=len(final),
            results=json.dumps([asdict(r) for r in final]),
        )
        shutil.rmtree(work_dir, ignore_errors=True)
