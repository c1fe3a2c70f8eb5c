"""The server's retention schedule: a background thread that applies every tenant's
retention policy when the server starts and then every `retention_interval_s` seconds.

A tenant with nothing to remove is only counted (a dry run): it gets no audit entry. Runs
take the server's other privacy operations' lock (privacy.places.DataPlaces), so a
retention run never overlaps a redaction or an erasure; one tenant's failure is logged and
does not stop the others.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator

from privacy.retention import RetentionReport, RetentionRunner

logger = logging.getLogger(__name__)

ACTOR = "retention-schedule"


class RetentionSchedule:
    def __init__(
        self,
        runner: Callable[[], RetentionRunner],
        each_region: Callable[[], Iterator[str]],
        interval_s: float,
    ) -> None:
        self._runner = runner
        self._each_region = each_region  # enters each region with tenants in turn
        self._interval = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="retention", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def run_once(self) -> dict[str, RetentionReport]:
        """Apply every tenant's policy now; the reports of the tenants where something was
        removed (a tenant with nothing to remove gets no intent row and no audit entry)."""
        runner = self._runner()
        reports: dict[str, RetentionReport] = {}
        for _region in self._each_region():
            runner.finish_interrupted()
            for tenant in runner.policies.tenants():
                if self._stop.is_set():
                    break
                try:
                    # Counted first, so that runs with nothing to remove leave no trace.
                    if runner.run(tenant, now=None, dry_run=True, actor=ACTOR).counts:
                        reports[tenant] = runner.run(tenant, now=None, dry_run=False, actor=ACTOR)
                except Exception:  # one tenant's failure never stops the schedule
                    logger.exception("retention run for tenant %s failed; will retry", tenant)
        removed = {t: r.counts for t, r in reports.items() if r.counts}
        if removed:
            logger.info("retention removed %s", removed)
        return reports

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception:
                logger.exception("retention schedule failed; will retry")
            self._stop.wait(self._interval)

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=60)
